import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SLOWEST, renderReport } from '../../reports';
import { processIo, printJson, runWithClient, type CliIo } from '../render/io';

export interface ReportCommandOptions {
  json?: boolean;
  slowest?: number;
}

/** `batchgrid report JOB`. */
export async function reportCommand(jobId: string, opts: ReportCommandOptions, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const report = await client.report(jobId, { slowest: opts.slowest });
    if (opts.json) return void printJson(io, report);
    io.out(`${renderReport(report)}\n`);
  });
}

const slowestCount = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new InvalidArgumentError('must be a whole number between 0 and 1000.');
  return n;
};

export function register(program: Command): void {
  program
    .command('report')
    .description("a job's performance report: parts, retries, makespan, throughput, queue wait and run time percentiles, slowest parts, workers")
    .argument('<job>', 'job id')
    .option('--slowest <n>', `how many of the slowest parts to list, per stage and for the job (default: ${DEFAULT_SLOWEST})`, slowestCount)
    .option('--json', 'print the report as JSON only')
    .action(async (jobId: string, opts: ReportCommandOptions) => {
      process.exitCode = await reportCommand(jobId, opts);
    });
}
