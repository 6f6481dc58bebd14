import type { Command } from 'commander';
import { JobNotFoundError } from '../../../common/errors';
import { parseDuration } from '../../../pipeline/units';
import { compactJobs, databaseStatus, migrateDatabase, pruneStore, storeSize, type DatabaseOptions } from '../../client/database';
import { formatBytes } from '../render/format';
import { printJson, processIo, runAction, runCommand, type CliIo } from '../render/io';

const pad = (version: number) => String(version).padStart(3, '0');

/** `batchgrid db migrate|status|size|compact|prune`: the Postgres analytics store. */
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

  db.command('size')
    .description('bytes per part-stage in Postgres (per-part tables and their indexes), of one job or of all, and the tables\' sizes')
    .option('--job <id>', 'only this job')
    .option('--json', 'print as JSON')
    .action(async (o: DbSizeOptions) => void (process.exitCode = await dbSizeCommand(o, processIo)));

  db.command('compact')
    .description('compact finished jobs: keep failed parts, aggregates and report data; delete the other per-part rows')
    .option('--job <id>', 'compact this job (it must have finished)')
    .option('--older-than <duration>', 'compact every finished job that ended longer ago than this, e.g. 1h, 7d', '0s')
    .action(async (o: DbCompactOptions) => void (process.exitCode = await dbCompactCommand(o, processIo)));

  db.command('prune')
    .description('delete finished jobs that ended longer ago than --older-than, with all their rows (S3 objects are not touched)')
    .requiredOption('--older-than <duration>', 'age since the job finished, e.g. 30d, 12h')
    .option('--dry-run', 'only say what would be deleted')
    .option('--json', 'print as JSON')
    .action(async (o: DbPruneOptions) => void (process.exitCode = await dbPruneCommand(o, processIo)));
}

export interface DbSizeOptions {
  job?: string;
  json?: boolean;
}

/** `batchgrid db size [--job J] [--json]`; returns the exit code. */
export function dbSizeCommand(o: DbSizeOptions, io: CliIo, database: DatabaseOptions = {}): Promise<number> {
  return runCommand(io, async () => {
    const size = await storeSize({ ...database, jobId: o.job });
    if (o.job !== undefined && size.bytes.jobs === 0) throw new JobNotFoundError(o.job);
    if (o.json) return printJson(io, size);
    const b = size.bytes;
    const per = b.bytesPerPartStage === null ? 'no parts' : `${b.bytesPerPartStage.toFixed(1)} bytes per part-stage`;
    io.out(`${o.job ? `job ${o.job}` : `${b.jobs} jobs`}: ${b.partStages} part-stages, ${b.taskRuns} task_runs rows, ${formatBytes(b.bytes)} — ${per}\n`);
    for (const t of size.tables) {
      io.out(`  ${t.table.padEnd(20)} ${formatBytes(t.totalBytes).padStart(10)} (table ${formatBytes(t.tableBytes)}, indexes ${formatBytes(t.indexBytes)}, ~${Math.max(0, t.rowsEstimate)} rows)\n`);
    }
  });
}

export interface DbCompactOptions {
  job?: string;
  /** A duration; default `0s`. */
  olderThan?: string;
}

/** `batchgrid db compact [--job J | --older-than D]`; returns the exit code. */
export function dbCompactCommand(o: DbCompactOptions, io: CliIo, database: DatabaseOptions = {}): Promise<number> {
  return runCommand(io, async () => {
    const results = await compactJobs(o.job !== undefined ? { ...database, jobId: o.job } : { ...database, olderThanMs: parseDuration(o.olderThan ?? '0s') });
    const done = results.filter((r) => r.compacted);
    for (const r of done) io.out(`compacted ${r.jobId}: ${r.partStages} part-stages, ${r.rowsDeleted} rows deleted, ${r.rowsKept} kept (failed parts)\n`);
    if (done.length === 0) io.out(o.job !== undefined ? `job ${o.job} was compacted already\n` : 'nothing to compact\n');
  });
}

export interface DbPruneOptions {
  /** A duration, e.g. `30d`. */
  olderThan: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `batchgrid db prune --older-than D [--dry-run] [--json]`; returns the exit code. */
export function dbPruneCommand(o: DbPruneOptions, io: CliIo, database: DatabaseOptions = {}): Promise<number> {
  return runCommand(io, async () => {
    const r = await pruneStore({ ...database, olderThanMs: parseDuration(o.olderThan), dryRun: o.dryRun });
    if (o.json) return printJson(io, r);
    const verb = r.dryRun ? 'would delete' : 'deleted';
    io.out(`${verb} ${r.jobs} jobs finished more than ${o.olderThan} ago: ${r.stageRuns} stage runs, ${r.taskRuns} task_runs rows, ${r.partStages} part-stages, ${r.cacheEntries} part cache entries, ${formatBytes(r.bytes)}\n`);
    for (const id of r.jobIds) io.out(`  ${id}\n`);
  });
}
