import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SLOWEST, renderFleetCost, renderReport } from '../../reports';
import { processIo, printJson, runCommand, type CliIo } from '../render/io';
import { parsePastTime } from '../render/time';

export interface ReportCommandOptions {
  json?: boolean;
  slowest?: number;
  /** A fleet's cost over a period instead of a job's report. */
  fleet?: string;
  since?: string;
  until?: string;
}

/** `batchgrid report JOB`, or `batchgrid report --fleet F --since T [--until T]`. */
export async function reportCommand(jobId: string | undefined, opts: ReportCommandOptions, io: CliIo = processIo): Promise<number> {
  return runCommand(io, async (ctx) => {
    if (opts.fleet !== undefined) {
      // Arguments are checked before any service is needed.
      if (jobId !== undefined) throw new InvalidArgumentError(`give a job or --fleet, not both (got job ${jobId} and --fleet ${opts.fleet}).`);
      if (opts.since === undefined) throw new InvalidArgumentError('--fleet needs --since: the start of the period (an ISO time, or -DURATION like -24h).');
      const now = new Date();
      const since = parsePastTime('--since', opts.since, now);
      const until = opts.until === undefined ? now : parsePastTime('--until', opts.until, now);
      const cost = await (await ctx.client()).fleetCost(opts.fleet, { since, until });
      if (opts.json) return void printJson(io, cost);
      io.out(`${renderFleetCost(cost)}\n`);
      return;
    }
    if (jobId === undefined) throw new InvalidArgumentError('give a job id, or --fleet F --since T for a fleet\'s cost.');
    if (opts.since !== undefined || opts.until !== undefined) throw new InvalidArgumentError('--since and --until go with --fleet.');
    const report = await (await ctx.client()).report(jobId, { slowest: opts.slowest });
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
    .description("a job's performance report: parts, retries, makespan, throughput, queue wait and run time percentiles, slowest parts, workers, cost; with --fleet, a fleet's cost over a period")
    .argument('[job]', 'job id')
    .option('--slowest <n>', `how many of the slowest parts to list, per stage and for the job (default: ${DEFAULT_SLOWEST})`, slowestCount)
    .option('--fleet <fleet>', "instead of a job: the fleet's worker time and cost over --since … --until")
    .option('--since <time>', 'with --fleet: start of the period, an ISO time or -DURATION before now (-24h, -7d)')
    .option('--until <time>', 'with --fleet: end of the period, like --since (default: now)')
    .option('--json', 'print the report as JSON only')
    .action(async (jobId: string | undefined, opts: ReportCommandOptions) => {
      process.exitCode = await reportCommand(jobId, opts);
    });
}
