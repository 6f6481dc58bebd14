import type { Command } from 'commander';
import { config } from '../../../common/config';
import { ServiceUnavailableError } from '../../../common/errors';
import { createPool, redactUrl } from '../../../store/db';
import { migrate, migrationStatus } from '../../../store/migrate';

const pad = (version: number) => String(version).padStart(3, '0');

/** `batchgrid db migrate|status`: the Postgres analytics store. */
export function register(program: Command): void {
  const db = program.command('db').description('Postgres analytics store (DATABASE_URL)');

  db.command('migrate')
    .description('apply pending migrations (safe to run from several processes at once)')
    .action(() =>
      withPool(async (pool, url) => {
        const applied = await migrate(pool);
        if (applied.length === 0) process.stdout.write(`${url}: up to date\n`);
        for (const m of applied) process.stdout.write(`applied ${pad(m.version)} ${m.name}\n`);
      }),
    );

  db.command('status')
    .description('list applied and pending migrations')
    .action(() =>
      withPool(async (pool, url) => {
        const { applied, pending } = await migrationStatus(pool);
        process.stdout.write(`${url}\n`);
        for (const m of applied) process.stdout.write(`applied  ${pad(m.version)} ${m.name}  ${m.appliedAt.toISOString()}\n`);
        for (const m of pending) process.stdout.write(`pending  ${pad(m.version)} ${m.name}\n`);
        process.stdout.write(pending.length === 0 ? 'up to date\n' : `${pending.length} pending: run \`batchgrid db migrate\`\n`);
      }),
    );
}

/** Runs `fn` with a pool on DATABASE_URL and always closes it; an unreachable server is reported with its cause. */
async function withPool(fn: (pool: ReturnType<typeof createPool>, url: string) => Promise<void>): Promise<void> {
  const url = config().DATABASE_URL;
  const pool = createPool(url, { max: 2 });
  try {
    await fn(pool, redactUrl(url));
  } catch (err) {
    if (err instanceof ServiceUnavailableError && err.cause instanceof Error) {
      // The CLI prints only the message: add why (refused, bad password, no such database).
      const cause = err.cause as Error & { code?: string };
      err.message += ` (${cause.message || cause.code || cause.name})`;
    }
    throw err;
  } finally {
    await pool.end();
  }
}
