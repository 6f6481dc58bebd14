import type { Command } from 'commander';
import { processIo, runWithClient, type CliIo } from '../render/io';

/** `batchgrid pause JOB`. */
export async function pauseCommand(jobId: string, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    await client.pause(jobId);
    io.out(`job ${jobId}: pause requested; parts in flight finish, no new part is sent until \`batchgrid resume ${jobId}\`\n`);
  });
}

export function register(program: Command): void {
  program
    .command('pause')
    .description('pause a running job: parts in flight finish, no new part is sent')
    .argument('<job>', 'job id')
    .action(async (jobId: string) => {
      process.exitCode = await pauseCommand(jobId);
    });
}
