import type { Command } from 'commander';
import { processIo, printJson, runWithClient, type CliIo } from '../render/io';
import { jobLine } from '../render/progress';
import { exitCodeOf, watchJob } from './watch';

export interface RetryCommandOptions {
  wait?: boolean;
  jobId?: string;
  json?: boolean;
}

/** `batchgrid retry JOB`: a new job over only the failed parts of JOB. */
export async function retryCommand(jobId: string, opts: RetryCommandOptions, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const r = await client.retryFailed(jobId, { jobId: opts.jobId });
    if (opts.json && !opts.wait) return void printJson(io, r);
    if (!opts.json) io.out(`job ${r.jobId} retries the failed parts of job ${jobId}\n  follow it: batchgrid watch ${r.jobId}\n`);
    if (!opts.wait) return 0;
    if (opts.json) {
      const summary = await client.wait(r.jobId);
      printJson(io, { ...r, summary });
      return exitCodeOf(summary.status);
    }
    const view = await watchJob(client, r.jobId, io);
    if (io.isTTY) io.out(`${jobLine(view)}\n`);
    return exitCodeOf(view.status);
  });
}

export function register(program: Command): void {
  program
    .command('retry')
    .description('start a new job over only the failed parts of a finished job (and what they feed downstream)')
    .argument('<job>', 'id of the finished job')
    .option('--wait', 'follow the new job until it ends; exit 0 only if it succeeded')
    .option('--job-id <id>', 'id of the new job (default: a new id); retrying again with the same id returns that job')
    .option('--json', 'print { jobId, workflowId, status, created } (and the summary with --wait) as JSON only')
    .action(async (jobId: string, opts: RetryCommandOptions) => {
      process.exitCode = await retryCommand(jobId, opts);
    });
}
