import fs from 'node:fs';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { packageRoot } from '../common/paths';
import type { Logger } from '../common/logger';

/** A migration file: `NNN_name.sql` in store/migrations. */
export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface AppliedMigration extends Migration {
  appliedAt: Date;
}

export interface MigrateOptions {
  /** Receives one `info` line per applied migration. Default: silent. */
  log?: Pick<Logger, 'info'>;
  /** Folder of the .sql files. Default: `<package root>/store/migrations` (tsc does not copy .sql into dist/). */
  dir?: string;
}

/** Namespace of the advisory lock ('bgmi'); the second key is the schema, so separate schemas migrate in parallel. */
const LOCK_CLASS = 0x62676d69;

/** The folder holding the migrations, the same from store/ (ts) and dist/store/ (compiled). */
export function migrationsDir(): string {
  return path.join(packageRoot(), 'store', 'migrations');
}

/** The migration files in version order; refuses duplicate versions. */
export function listMigrations(dir: string = migrationsDir()): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .map((file) => /^(\d+)_(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2], file: m[0] }))
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`Two migrations share version ${migrations[i].version}: ${migrations[i - 1].file} and ${migrations[i].file}.`);
    }
  }
  return migrations;
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so
 * that processes migrating at once apply each file exactly once. Returns what it applied ([] when up to date).
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<AppliedMigration[]> {
  const dir = options.dir ?? migrationsDir();
  const files = listMigrations(dir);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`SELECT pg_advisory_lock($1, hashtext(coalesce(current_schema(), '')))`, [LOCK_CLASS]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const applied: AppliedMigration[] = [];
      for (const m of files.filter((f) => !done.has(f.version))) {
        const sql = fs.readFileSync(path.join(dir, m.file), 'utf8');
        const started = Date.now();
        await client.query('BEGIN');
        try {
          await client.query(sql);
          const r = await client.query<{ applied_at: Date }>(
            'INSERT INTO schema_migrations (version, name) VALUES ($1, $2) RETURNING applied_at',
            [m.version, m.name],
          );
          await client.query('COMMIT');
          applied.push({ ...m, appliedAt: r.rows[0].applied_at });
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`Migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
        }
        options.log?.info({ version: m.version, migration: m.name, ms: Date.now() - started }, 'migration applied');
      }
      return applied;
    } finally {
      await client.query(`SELECT pg_advisory_unlock($1, hashtext(coalesce(current_schema(), '')))`, [LOCK_CLASS]);
    }
  } catch (err) {
    // If the session is in doubt, destroy it: closing the connection also releases the lock.
    if (!(err instanceof Error && err.message.startsWith('Migration '))) broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: Migration[];
}

/** Which migrations the database has, and which files it still lacks. */
export async function migrationStatus(db: Pool | PoolClient, dir: string = migrationsDir()): Promise<MigrationStatus> {
  const files = listMigrations(dir);
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  const rows =
    exists.rows[0].t === null
      ? []
      : (await db.query<{ version: number; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).rows;
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const applied = rows.map((r) => ({
    version: r.version,
    name: r.name,
    file: byVersion.get(r.version)?.file ?? `${String(r.version).padStart(3, '0')}_${r.name}.sql`,
    appliedAt: r.applied_at,
  }));
  const done = new Set(rows.map((r) => r.version));
  return { applied, pending: files.filter((f) => !done.has(f.version)) };
}
