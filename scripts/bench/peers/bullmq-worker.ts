import { Worker } from 'bullmq';

/**
 * A BullMQ worker process: `bullmq-worker.js <port> <queue> <concurrency>` runs a no-op processor
 * with `concurrency` slots against Redis on 127.0.0.1:<port>. On SIGTERM it closes and prints the
 * jobs it completed and the time of its last completion.
 */
async function run(): Promise<void> {
  const [port, queue, concurrency] = process.argv.slice(2);
  let count = 0;
  let lastAt = 0;
  const worker = new Worker(queue, async (job) => ({ part: job.data.part as number }), {
    connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null },
    concurrency: Number(concurrency),
  });
  worker.on('completed', () => {
    count += 1;
    lastAt = Date.now();
  });
  worker.on('error', (err) => process.stderr.write(`bullmq-worker: ${err.message}\n`));
  await worker.waitUntilReady();
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await worker.close();
  process.stdout.write(`${JSON.stringify({ count, lastAt })}\n`);
}

run().catch((err: unknown) => {
  process.stderr.write(`bullmq-worker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
