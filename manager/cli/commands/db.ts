import type { Command } from 'commander';
import { ServiceUnavailableError } from '../../../common/errors';
import { databaseStatus, migrateDatabase } from '../../client/database';

const pad = (version: number) => String(version).padStart(3, '0');

/** `batchgrid db migrate|status`: the Postgres analytics store. */
export function register(program: Command): void {
  const db = program.command('db').description('Postgres analytics store (DATABASE_URL)');

  db.command('migrate')
    .description('apply pending migrations (safe to run from several processes at once)')
    .action(() =>
      withCause(async () => {
        const { database, applied } = await migrateDatabase();
        if (applied.length === 0) process.stdout.write(`${database}: up to date\n`);
        for (const m of applied) process.stdout.write(`applied ${pad(m.version)} ${m.name}\n`);
      }),
    );

  db.command('status')
    .description('list applied and pending migrations')
    .action(() =>
      withCause(async () => {
        const { database, applied, pending } = await databaseStatus();
        process.stdout.write(`${database}\n`);
        for (const m of applied) process.stdout.write(`applied  ${pad(m.version)} ${m.name}  ${m.appliedAt.toISOString()}\n`);
        for (const m of pending) process.stdout.write(`pending  ${pad(m.version)} ${m.name}\n`);
        process.stdout.write(pending.length === 0 ? 'up to date\n' : `${pending.length} pending: run \`batchgrid db migrate\`\n`);
      }),
    );
}

/** Runs `fn`; an unreachable server is reported with its cause. */
async function withCause(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ServiceUnavailableError && err.cause instanceof Error) {
      // The CLI prints only the message: add why (refused, bad password, no such database).
      const cause = err.cause as Error & { code?: string };
      err.message += ` (${cause.message || cause.code || cause.name})`;
    }
    throw err;
  }
}
