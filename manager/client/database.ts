import type { Pool } from 'pg';
import { config } from '../../common/config';
import { listWorkerStats, type WorkerStats } from '../../grid/service';
import { createPool, redactUrl } from '../../store/db';
import { migrate, migrationStatus, type AppliedMigration, type MigrationStatus } from '../../store/migrate';

/**
 * The analytics store on its own, for what must work with Postgres alone — migrations run before
 * the rest of the stack is up, and the fleet workers' table — where `BatchGridClient.connect` would
 * insist on Temporal too. Each call opens a small pool and ends it.
 */

export interface DatabaseOptions {
  /** Postgres URL. Default: DATABASE_URL. */
  databaseUrl?: string;
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

async function withPool<T>(options: DatabaseOptions, max: number, fn: (pool: Pool, database: string) => Promise<T>): Promise<T> {
  const url = options.databaseUrl ?? config().DATABASE_URL;
  const pool = createPool(url, { max });
  try {
    return await fn(pool, redactUrl(url));
  } finally {
    await pool.end();
  }
}
