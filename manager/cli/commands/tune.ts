import type { Command } from 'commander';
import type { TuneRequest } from '../../client';
import { describeTune } from '../../../pipeline/tune';
import { processIo, printJson, runWithClient, type CliIo } from '../render/io';

export interface TuneCommandOptions {
  concurrency?: string;
  priority?: string;
  tolerate?: string;
  json?: boolean;
}

/** Option text as a request: digits become numbers, anything else is passed on for the client to name what is wrong. */
const numberOrText = (text: string | undefined): number | string | undefined => (text === undefined ? undefined : /^\d+$/.test(text.trim()) ? Number(text) : text);

/** `batchgrid tune JOB [--concurrency N] [--priority P] [--tolerate X]`: returns the exit code. */
export async function tuneCommand(jobId: string, opts: TuneCommandOptions, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const request = { concurrency: numberOrText(opts.concurrency), priority: numberOrText(opts.priority), tolerate: numberOrText(opts.tolerate) };
    const tune = await client.tune(jobId, Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as TuneRequest);
    if (opts.json) return void printJson(io, { jobId, tune });
    io.out(`job ${jobId} tuned: ${describeTune(tune)} (in its history; the stages apply it within about a second)\n`);
  });
}

export function register(program: Command): void {
  program
    .command('tune')
    .description('change a running job: its window, priority or tolerated failures (recorded in its history)')
    .argument('<job>', 'job id')
    .option('--concurrency <n>', 'parts of the job in flight at once, across its stages (1–100000)')
    .option('--priority <p>', "the job's weight in its fleets' fair share (1–100)")
    .option('--tolerate <x>', 'finally failed parts every stage tolerates: a count (3) or a percentage (0.5%)')
    .option('--json', 'print { jobId, tune } as JSON only')
    .action(async (jobId: string, opts: TuneCommandOptions) => {
      process.exitCode = await tuneCommand(jobId, opts);
    });
}
