/**
 * Stops and starts one service of the local stack, for fault injection.
 *
 * A stand-in with the signatures `manager/devstack` is about to export (stopDevService,
 * startDevService, restartDevService); once it does, this file becomes a re-export of those and
 * nothing else in test/chaos changes. Built on what manager/devstack has today: its own
 * processes (Temporal dev server, moto, ElasticMQ) through stopService / ensureServiceRunning,
 * and the Debian Postgres cluster on DATABASE_URL's port through pg_ctlcluster.
 *
 * Today's SQS (ElasticMQ) and S3 (moto) keep their data in memory: a restart empties them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { config as defaultConfig, type Config } from '../../../common/config';
import { ensureBucket } from '../../../manager/devstack/bucket';
import { elasticmqService } from '../../../manager/devstack/elasticmq';
import { ensureServiceRunning, stopService } from '../../../manager/devstack/launch';
import { layoutOf, prepareLayout } from '../../../manager/devstack/layout';
import { motoService } from '../../../manager/devstack/moto';
import { parseDatabaseUrl, postgresAnswers } from '../../../manager/devstack/postgres';
import { createContext, type ManagedService, type StackContext } from '../../../manager/devstack/services';
import { temporalService } from '../../../manager/devstack/temporal';
import { pollUntil } from '../../../manager/devstack/wait';

export type DevServiceName = 'temporal' | 'sqs' | 's3' | 'postgres';

export interface DevServiceOptions {
  /** Ports, BATCHGRID_HOME, DATABASE_URL. Default: the process configuration. */
  config?: Config;
}

const run = promisify(execFile);

function contextOf(cfg: Config): StackContext {
  const layout = layoutOf(cfg.BATCHGRID_HOME);
  prepareLayout(layout);
  return createContext(cfg, layout, () => undefined);
}

/** The managed process behind a name: SQS is ElasticMQ unless moto is the SQS backend. */
function processOf(name: Exclude<DevServiceName, 'postgres'>, cfg: Config): ManagedService {
  if (name === 'temporal') return temporalService(cfg);
  if (name === 'sqs' && cfg.BATCHGRID_SQS_BACKEND === 'elasticmq') return elasticmqService(cfg);
  return motoService(cfg);
}

/** `pg_ctlcluster VERSION NAME` of the cluster listening on DATABASE_URL's port. */
async function postgresCluster(cfg: Config): Promise<[string, string]> {
  const { port } = parseDatabaseUrl(cfg.DATABASE_URL);
  const { stdout } = await run('pg_lsclusters', ['-h']);
  const row = stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f.length >= 4 && Number(f[2]) === port);
  if (!row) throw new Error(`no Debian Postgres cluster listens on port ${port} (pg_lsclusters)`);
  return [row[0], row[1]];
}

/** Stops the service and returns once it no longer answers. */
export async function stopDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<void> {
  const cfg = options.config ?? defaultConfig();
  if (name === 'postgres') {
    const [version, cluster] = await postgresCluster(cfg);
    // fast mode: disconnects clients and shuts down cleanly, as a restart by an operator would.
    await run('pg_ctlcluster', [version, cluster, 'stop', '--mode', 'fast']);
    return;
  }
  const svc = processOf(name, cfg);
  const report = await stopService(svc, contextOf(cfg));
  if (report.state !== 'stopped') throw new Error(`${svc.name} was not started by batchgrid under ${cfg.BATCHGRID_HOME} (${report.state}); refusing to leave it running as if stopped`);
}

/** Starts the service and returns once it answers (for S3: once the bucket exists again). */
export async function startDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<void> {
  const cfg = options.config ?? defaultConfig();
  if (name === 'postgres') {
    if (!(await postgresAnswers(cfg.DATABASE_URL))) {
      const [version, cluster] = await postgresCluster(cfg);
      await run('pg_ctlcluster', [version, cluster, 'start']);
    }
    if (!(await pollUntil(() => postgresAnswers(cfg.DATABASE_URL), { timeoutMs: 30_000, intervalMs: 200 }))) {
      throw new Error(`Postgres on ${parseDatabaseUrl(cfg.DATABASE_URL).display} did not answer within 30 s of starting`);
    }
    return;
  }
  const svc = processOf(name, cfg);
  await ensureServiceRunning(svc, contextOf(cfg));
  if (svc.name === 'moto') await ensureBucket(cfg);
}

/** Stops the service, then starts it again and waits until it answers. */
export async function restartDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<void> {
  await stopDevService(name, options);
  await startDevService(name, options);
}
