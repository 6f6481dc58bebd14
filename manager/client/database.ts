import { clearCache } from '../../store/part-cache';
import type { Pool } from 'pg';
import { config } from '../../common/config';
import { listWorkerStats, type WorkerStats } from '../../grid/service';
import { createPool, redactUrl } from '../../store/db';
import {
  compactFinishedJobs,
  compactJob,
  jobsStoreBytes,
  pruneJobs,
  storeTableSizes,
  type CompactResult,
  type PruneResult,
  type StoreBytes,
  type TableSize,
} from '../../store/compaction';
import { migrate, migrationStatus, type AppliedMigration, type MigrationStatus } from '../../store/migrate';

/**
 * The analytics store on its own, for what must work with Postgres alone — migrations run before
 * the rest of the stack is up, and the fleet workers' table — where `BatchGridClient.connect` would
 * insist on Temporal too. Each call opens a small pool and ends it.
 */

export interface DatabaseOptions {
  /** Postgres URL. Default: DATABASE_URL. */
  databaseUrl?: string;
  /** A pool to use (and leave open) instead of opening one on `databaseUrl`. */
  pool?: Pool;
}

/** Applies pending migrations (safe from several processes at once); `database` is the URL without its password. */
export async function migrateDatabase(options: DatabaseOptions = {}): Promise<{ database: string; applied: AppliedMigration[] }> {
  return withPool(options, 2, async (pool, database) => ({ database, applied: await migrate(pool) }));
}

/** Applied and pending migrations; `database` is the URL without its password. */
export async function databaseStatus(options: DatabaseOptions = {}): Promise<MigrationStatus & { database: string }> {
  return withPool(options, 2, async (pool, database) => ({ database, ...(await migrationStatus(pool)) }));
}

/** Fleet workers, most recently seen first, as their events recorded them: those up, or with `all` stopped and lost ones too. */
export async function listFleetWorkers(options: DatabaseOptions & { fleet?: string; all?: boolean } = {}): Promise<WorkerStats[]> {
  return withPool(options, 1, (pool) => listWorkerStats(pool, { fleet: options.fleet, all: options.all }));
}

/** Compacts one finished job (`jobId`), or every finished job not compacted yet that ended more than `olderThanMs` ago. */
export async function compactJobs(options: DatabaseOptions & ({ jobId: string } | { olderThanMs: number })): Promise<CompactResult[]> {
  return withPool(options, 2, async (pool) => ('jobId' in options ? [await compactJob(pool, options.jobId)] : compactFinishedJobs(pool, { olderThanMs: options.olderThanMs, limit: 100_000 })));
}

/** Deletes finished jobs that ended more than `olderThanMs` ago (or, with `dryRun`, says what it would delete). */
export async function pruneStore(options: DatabaseOptions & { olderThanMs: number; dryRun?: boolean }): Promise<PruneResult> {
  return withPool(options, 2, (pool) => pruneJobs(pool, { olderThanMs: options.olderThanMs, dryRun: options.dryRun, limit: 100_000 }));
}

/** `batchgrid cache clear --pipeline P`: drops the pipeline's part cache entries (outputs in S3 stay); returns how many. */
export async function clearPartCache(options: DatabaseOptions & { pipeline: string }): Promise<number> {
  return withPool(options, 1, (pool) => clearCache(pool, options.pipeline));
}

/** The store's tables, and the bytes per part-stage of one job (`jobId`) or of every job. */
export async function storeSize(options: DatabaseOptions & { jobId?: string } = {}): Promise<{ database: string; tables: TableSize[]; bytes: StoreBytes }> {
  return withPool(options, 2, async (pool, database) => {
    const ids = options.jobId !== undefined ? [options.jobId] : (await pool.query<{ job_id: string }>('SELECT job_id FROM jobs')).rows.map((r) => r.job_id);
    return { database, tables: await storeTableSizes(pool), bytes: await jobsStoreBytes(pool, ids) };
  });
}

async function withPool<T>(options: DatabaseOptions, max: number, fn: (pool: Pool, database: string) => Promise<T>): Promise<T> {
  const url = options.databaseUrl ?? config().DATABASE_URL;
  if (options.pool) return fn(options.pool, redactUrl(url));
  const pool = createPool(url, { max });
  try {
    return await fn(pool, redactUrl(url));
  } finally {
    await pool.end();
  }
}
