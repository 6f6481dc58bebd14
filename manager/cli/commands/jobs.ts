import { InvalidArgumentError, type Command } from 'commander';
import { isJobStatus, JOB_STATUSES, type JobStatus } from '../../../common/status';
import type { Job } from '../../client';
import { formatElapsed, formatTable, formatTimestamp } from '../render/format';
import { processIo, printJson, runWithClient, type CliIo } from '../render/io';

export interface JobsCommandOptions {
  pipeline?: string;
  status?: JobStatus;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

/** The table `batchgrid jobs` prints. */
export function jobsTable(jobs: Job[], now = Date.now()): string {
  return formatTable(
    ['JOB', 'PIPELINE', 'STATUS', 'CREATED (UTC)', 'DURATION', 'PARENT'],
    jobs.map((j) => [
      j.jobId,
      j.pipelineName,
      j.status,
      formatTimestamp(j.createdAt),
      j.startedAt ? formatElapsed((j.finishedAt?.getTime() ?? now) - j.startedAt.getTime()) : '-',
      j.parentJobId ?? '',
    ]),
  );
}

/** `batchgrid jobs`: newest first, one page. */
export async function jobsCommand(opts: JobsCommandOptions, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const page = await client.list({ pipeline: opts.pipeline, status: opts.status, limit: opts.limit ?? 20, cursor: opts.cursor });
    if (opts.json) return void printJson(io, page);
    io.out(page.jobs.length === 0 ? 'no jobs\n' : `${jobsTable(page.jobs)}\n`);
    if (page.nextCursor) io.err(`more: batchgrid jobs --cursor ${page.nextCursor}\n`);
  });
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number between 1 and 1000.');
  return n;
};

const status = (value: string): JobStatus => {
  if (!isJobStatus(value)) throw new InvalidArgumentError(`must be one of ${JOB_STATUSES.join(', ')}.`);
  return value;
};

/** `batchgrid jobs`. */
export function register(program: Command): void {
  program
    .command('jobs')
    .description('list jobs, newest first')
    .option('--pipeline <name>', 'only jobs of this pipeline')
    .option('--status <status>', `only jobs in this status (${JOB_STATUSES.join(', ')})`, status)
    .option('--limit <n>', 'jobs per page (default: 20)', positiveInt)
    .option('--cursor <cursor>', 'the next page, as printed after the previous one')
    .option('--json', 'print { jobs, nextCursor } as JSON only')
    .action(async (opts: JobsCommandOptions) => {
      process.exitCode = await jobsCommand(opts);
    });
}
