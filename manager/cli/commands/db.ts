import type { Command } from 'commander';
import { config } from '../../../common/config';
import { createPool, redactUrl } from '../../../store/db';
import { migrate, migrationStatus } from '../../../store/migrate';
import { runAction } from '../render/io';

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

/** The action of a `db` command: `fn` with a pool on DATABASE_URL, always closed; errors reported as every command's are. */
function withPool(fn: (pool: ReturnType<typeof createPool>, url: string) => Promise<void>): Promise<void> {
  return runAction(async () => {
    const url = config().DATABASE_URL;
    const pool = createPool(url, { max: 2 });
    try {
      await fn(pool, redactUrl(url));
    } finally {
      await pool.end();
    }
  });
}
