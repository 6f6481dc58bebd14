import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import { DevStackError } from './errors';
import { logFileOf, pidFileOf } from './layout';
import { stopService } from './launch';
import { withLock } from './lock';
import { ensurePostgres, parseDatabaseUrl, postgresAnswers } from './postgres';
import { capture, runLogged } from './run-command';
import type { ManagedService, ServiceReport } from './services';
import { ensureWithBucket, resolveStack, type Resolved } from './stack';
import { pollUntil, tcpAnswers } from './wait';

/** The services a fault test can stop and start; `sqs` and `s3` are whichever local servers the configuration uses for them. */
export const DEV_SERVICES = ['temporal', 'sqs', 's3', 'postgres'] as const;
export type DevServiceName = (typeof DEV_SERVICES)[number];

export interface DevServiceOptions {
  /** Which stack: ports, BATCHGRID_HOME, DATABASE_URL, backends. Default: the process configuration. */
  config?: Config;
  /** Receives progress lines. Default: discarded. */
  progress?: (line: string) => void;
  /** How long to wait for another `dev` command holding the stack lock, in ms. Default: 900000. */
  lockTimeoutMs?: number;
  /** How long a stop may take until the port is closed, in ms. Default: 20000. */
  stopTimeoutMs?: number;
}

/** The managed server behind a name, and whether it serves S3 (so start recreates the bucket). */
function serverOf(name: Exclude<DevServiceName, 'postgres'>, r: Resolved): { svc: ManagedService; servesS3: boolean } {
  const [temporal, moto, elasticmq, s3] = r.services;
  if (name === 'temporal') return { svc: temporal, servesS3: false };
  if (name === 'sqs') return { svc: r.backend === 'elasticmq' ? elasticmq : moto, servesS3: r.backend !== 'elasticmq' && !r.s3OnDisk };
  return { svc: r.s3OnDisk ? s3 : moto, servesS3: true };
}

function checkName(name: string): asserts name is DevServiceName {
  if (!(DEV_SERVICES as readonly string[]).includes(name)) {
    throw new DevStackError('stack', `unknown service "${name}"`, `Use one of ${DEV_SERVICES.join(', ')}.`);
  }
}

async function waitPortClosed(svc: string, port: number, timeoutMs: number): Promise<void> {
  if (!(await pollUntil(async () => !(await tcpAnswers('127.0.0.1', port)), { timeoutMs, intervalMs: 100 }))) {
    throw new DevStackError(svc, `port ${port} still accepts connections after the stop`, 'Find what listens there (ss -ltnp) and stop it.');
  }
}

/** Remembers, across a stop and the next start, that `dev up` had not started the cluster, so `dev down` still leaves it alone. */
const externalPostgresMarker = (r: Resolved) => path.join(r.ctx.layout.run, 'postgres.external-stopped');
const startedPostgresMarker = (r: Resolved) => path.join(r.ctx.layout.run, 'postgres.started');

async function stopPostgresCluster(r: Resolved, timeoutMs: number): Promise<ServiceReport> {
  const target = parseDatabaseUrl(r.cfg.DATABASE_URL);
  const logFile = logFileOf(r.ctx.layout, 'postgres-install');
  const base = { service: 'postgres', endpoint: target.display };
  const lines = (await capture('pg_lsclusters', ['-h']).catch(() => '')).split('\n').map((l) => l.trim().split(/\s+/));
  const cluster = lines.find((f) => f.length >= 4 && Number(f[2]) === target.port);
  if (!cluster) throw new DevStackError('postgres', `no Debian Postgres cluster uses port ${target.port}`, 'Stop that server by hand; only Debian clusters (pg_ctlcluster) are managed.');
  const [version, name, , status] = cluster;
  if (!status.startsWith('online')) return { ...base, state: 'down', managed: false };
  if (!fs.existsSync(startedPostgresMarker(r))) fs.writeFileSync(externalPostgresMarker(r), `${version} ${name}\n`);
  await runLogged('pg_ctlcluster', ['--mode', 'fast', version, name, 'stop'], { logFile }).catch((err: unknown) => {
    throw new DevStackError('postgres', `pg_ctlcluster ${version} ${name} stop failed`, 'Stop it by hand.', logFile, { cause: err });
  });
  await waitPortClosed('postgres', target.port, timeoutMs);
  return { ...base, state: 'stopped', managed: true };
}

async function startPostgresCluster(r: Resolved): Promise<ServiceReport> {
  const report = await ensurePostgres(r.cfg, r.ctx);
  if (fs.existsSync(externalPostgresMarker(r))) {
    // We stopped someone else's cluster: started again, it is theirs again.
    fs.rmSync(startedPostgresMarker(r), { force: true });
    fs.rmSync(externalPostgresMarker(r), { force: true });
    return { ...report, managed: false };
  }
  return report;
}

/**
 * Stops one service of the local stack for real: its process is gone and its port closed (for
 * Postgres, the Debian cluster on DATABASE_URL's port is stopped with pg_ctlcluster). Refuses a
 * server that another BATCHGRID_HOME's `dev up` (or someone else) started, since it could not be
 * started again as it was: point `options.config` at that stack instead.
 */
export async function stopDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<ServiceReport> {
  checkName(name);
  const r = resolveStack(options);
  const timeoutMs = options.stopTimeoutMs ?? 20_000;
  return withLock(r.lockFile, r.lockTimeoutMs, async () => {
    if (name === 'postgres') return stopPostgresCluster(r, timeoutMs);
    const { svc } = serverOf(name, r);
    const report = await stopService(svc, r.ctx);
    if (report.state === 'external') {
      throw new DevStackError(svc.name, `${svc.endpoint} is served by a process this stack (${r.ctx.layout.home}) did not start`, `Set BATCHGRID_HOME to the home of the stack that started it (its pid file is run/${path.basename(pidFileOf(r.ctx.layout, svc.name))}).`);
    }
    await waitPortClosed(svc.name, svc.port, timeoutMs);
    return report;
  });
}

/**
 * Starts one service (installing it if needed) and waits until it answers, leaving the stack as
 * `dev up` would: the bucket exists on the S3 server, Temporal has batchgrid's search attributes,
 * Postgres has the role and database. A no-op when it already runs.
 */
export async function startDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<ServiceReport> {
  checkName(name);
  const r = resolveStack(options);
  return withLock(r.lockFile, r.lockTimeoutMs, async () => {
    if (name === 'postgres') return startPostgresCluster(r);
    const { svc, servesS3 } = serverOf(name, r);
    const [report] = await ensureWithBucket(svc, r.ctx, servesS3);
    return report;
  });
}

/** stopDevService, then startDevService: the same data, served again (what a fault test needs to prove persistence). */
export async function restartDevService(name: DevServiceName, options: DevServiceOptions = {}): Promise<ServiceReport> {
  await stopDevService(name, options);
  return startDevService(name, options);
}

/** True when the service answers now (for a test that waits on its own condition). */
export async function devServiceAnswers(name: DevServiceName, options: DevServiceOptions = {}): Promise<boolean> {
  checkName(name);
  const r = resolveStack(options);
  if (name === 'postgres') return postgresAnswers(r.cfg.DATABASE_URL);
  return serverOf(name, r).svc.probe();
}
