#!/usr/bin/env node
import { Command } from 'commander';
import { writeCallCountsOnExit } from '../../common/call-counts';
import { registerCommands } from './commands';
import { processIo, reportError } from './render/io';

/** Entry point of the `batchgrid` CLI: every subcommand lives in ./commands. */
async function run(): Promise<void> {
  // For benchmarks: the SQS, S3 and Postgres calls this process made, written as JSON at exit.
  writeCallCountsOnExit(process.env.BATCHGRID_CALL_COUNTS_FILE);
  const program = new Command('batchgrid')
    .description('batchgrid: declarative multi-stage batch pipelines on Temporal, SQS, S3 and Postgres')
    .showHelpAfterError();
  registerCommands(program);
  await program.parseAsync(process.argv);
}

// Commands report their errors through runCommand. What escapes is reported the same way: the
// errors of the long-running commands (orchestrator, fleet-worker, dev up), which end the process
// at once, whatever may still hold it open (sockets, child processes, the Temporal runtime).
run().catch((err: unknown) => {
  reportError(processIo, err);
  process.exit(1);
});
