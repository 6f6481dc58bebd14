import type { Command } from 'commander';
import { clearPartCache } from '../../client/database';
import { processIo, runCommand, type CliIo } from '../render/io';

/** `batchgrid cache clear --pipeline P`: returns the exit code. */
export function cacheClearCommand(o: { pipeline: string }, io: CliIo = processIo, database = {}): Promise<number> {
  return runCommand(io, async () => {
    const n = await clearPartCache({ ...database, pipeline: o.pipeline });
    io.out(`part cache of pipeline ${o.pipeline}: ${n} entr${n === 1 ? 'y' : 'ies'} dropped (their outputs stay in S3 with the jobs that wrote them)\n`);
  });
}

export function register(program: Command): void {
  const cache = program.command('cache').description('the content-addressed part cache of stages with `cache: true`');
  cache
    .command('clear')
    .description("drop a pipeline's cached parts: its next jobs run every part again")
    .requiredOption('--pipeline <name>', 'pipeline name')
    .action(async (o: { pipeline: string }) => void (process.exitCode = await cacheClearCommand(o)));
}
