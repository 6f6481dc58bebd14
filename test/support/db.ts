import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { config } from '../../common/config';
import { createPool } from '../../store/db';
import { migrate } from '../../store/migrate';

export interface TestDb {
  pool: Pool;
  schema: string;
  /** Drops the schema (cascade) and ends the pool. */
  drop(): Promise<void>;
}

/** A random schema name, `t_<hex>`, so concurrent tests never share tables. */
export const randomSchema = (): string => `t_${randomBytes(6).toString('hex')}`;

/** A pool on a fresh random schema of DATABASE_URL, migrated unless `migrate: false`. */
export async function testPool(options: { migrate?: boolean; schema?: string } = {}): Promise<TestDb> {
  const schema = options.schema ?? randomSchema();
  const pool = createPool(config().DATABASE_URL, { schema, max: 5 });
  try {
    if (options.migrate ?? true) await migrate(pool);
    else await pool.query('SELECT 1'); // creates the schema
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    pool,
    schema,
    async drop() {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}
