#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands';

/** Entry point of the `batchgrid` CLI: every subcommand lives in ./commands. */
async function run(): Promise<void> {
  const program = new Command('batchgrid')
    .description('batchgrid: declarative multi-stage batch pipelines on Temporal, SQS, S3 and Postgres')
    .showHelpAfterError();
  registerCommands(program);
  await program.parseAsync(process.argv);
}

run().catch((err: unknown) => {
  process.stderr.write(`batchgrid: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
