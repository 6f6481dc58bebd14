import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { config } from '../../../common/config';
import * as activities from './temporal-activities';

/**
 * A worker process of the hand-rolled fan-out: `temporal-worker.js <task queue> <bundle> <slots>`
 * hosts its workflow (from a pre-built bundle) and its activity with `slots` activity slots, the
 * same as a fleet worker's `--concurrency`. Stops on SIGTERM.
 */
async function run(): Promise<void> {
  const [taskQueue, bundlePath, slots] = process.argv.slice(2);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cfg = config();
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: cfg.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowBundle: { codePath: bundlePath },
      activities,
      maxConcurrentActivityTaskExecutions: Number(slots),
    });
    process.once('SIGTERM', () => worker.shutdown());
    await worker.run();
  } finally {
    await connection.close();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`temporal-worker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
