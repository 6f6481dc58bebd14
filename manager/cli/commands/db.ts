import type { Command } from 'commander';
import { databaseStatus, migrateDatabase } from '../../client/database';
import { runAction } from '../render/io';

const pad = (version: number) => String(version).padStart(3, '0');

/** `batchgrid db migrate|status`: the Postgres analytics store. */
export function register(program: Command): void {
  const db = program.command('db').description('Postgres analytics store (DATABASE_URL)');

  db.command('migrate')
    .description('apply pending migrations (safe to run from several processes at once)')
    .action(() =>
      runAction(async () => {
        const { database, applied } = await migrateDatabase();
        if (applied.length === 0) process.stdout.write(`${database}: up to date\n`);
        for (const m of applied) process.stdout.write(`applied ${pad(m.version)} ${m.name}\n`);
      }),
    );

  db.command('status')
    .description('list applied and pending migrations')
    .action(() =>
      runAction(async () => {
        const { database, applied, pending } = await databaseStatus();
        process.stdout.write(`${database}\n`);
        for (const m of applied) process.stdout.write(`applied  ${pad(m.version)} ${m.name}  ${m.appliedAt.toISOString()}\n`);
        for (const m of pending) process.stdout.write(`pending  ${pad(m.version)} ${m.name}\n`);
        process.stdout.write(pending.length === 0 ? 'up to date\n' : `${pending.length} pending: run \`batchgrid db migrate\`\n`);
      }),
    );
}
