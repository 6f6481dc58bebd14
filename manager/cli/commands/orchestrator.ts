import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import type { Command } from 'commander';
import fs from 'node:fs';
import { config } from '../../../common/config';
import { createOrchestrator, workflowsPath } from '../../../orchestrator';

/** `batchgrid orchestrator`: runs the Temporal worker for job workflows and their activities. */
export function register(program: Command): void {
  program
    .command('orchestrator')
    .description('run the orchestrator: the Temporal worker for job workflows and stage activities')
    .option('--task-queue <name>', 'Temporal task queue (default: BATCHGRID_TASK_QUEUE)')
    .option('--bundle <file>', 'use a pre-built workflow bundle (see --write-bundle) instead of bundling at start-up')
    .option('--write-bundle <file>', 'build the workflow bundle into FILE and exit (for production images)')
    .action(async (opts: { taskQueue?: string; bundle?: string; writeBundle?: string }) => {
      // The SDK's own log lines follow LOG_LEVEL too (its levels are upper-case, without fatal/silent).
      const level = config().LOG_LEVEL;
      const sdkLevel = level === 'fatal' || level === 'silent' ? 'ERROR' : (level.toUpperCase() as 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE');
      Runtime.install({ logger: new DefaultLogger(sdkLevel) });
      if (opts.writeBundle) {
        const { code } = await bundleWorkflowCode({ workflowsPath });
        fs.writeFileSync(opts.writeBundle, code);
        process.stdout.write(`workflow bundle written to ${opts.writeBundle}\n`);
        return;
      }
      const { worker, close } = await createOrchestrator({ taskQueue: opts.taskQueue, workflowBundlePath: opts.bundle });
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await worker.run();
      } finally {
        await close();
      }
    });
}
