import type { Command } from 'commander';
import { processIo, runWithClient, type CliIo } from '../render/io';

/** `batchgrid cancel JOB`. */
export async function cancelCommand(jobId: string, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    await client.cancel(jobId);
    io.out(`job ${jobId}: cancel requested; no new part is sent, parts in flight are abandoned\n`);
  });
}

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel a job: no new part is sent, the job ends cancelled')
    .argument('<job>', 'job id')
    .action(async (jobId: string) => {
      process.exitCode = await cancelCommand(jobId);
    });
}
