import type { Command } from 'commander';
import { processIo, runWithClient, type CliIo } from '../render/io';

/** `batchgrid resume JOB`. */
export async function resumeCommand(jobId: string, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    await client.resume(jobId);
    io.out(`job ${jobId}: resume requested\n`);
  });
}

export function register(program: Command): void {
  program
    .command('resume')
    .description('resume a paused job')
    .argument('<job>', 'job id')
    .action(async (jobId: string) => {
      process.exitCode = await resumeCommand(jobId);
    });
}
