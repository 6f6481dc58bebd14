import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { createAwsClients, destroyAwsClients, fleetQueueName, type AwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { inputPrefixOf } from '../../common/layout';
import { distPath } from '../../common/paths';
import { launchJob } from '../../manager/launch';
import { compilePipelineObject, DEFAULT_MANIFEST_KEY } from '../../pipeline';
import { sendBodies } from '../../activities/task-sender';
import { compactJob, storeBytesPerPartStage } from '../../store/compaction';
import { createPool } from '../../store/db';
import { migrate } from '../../store/migrate';
import { trackMemory } from './memory';

/**
 * `npm run bench`: the same N no-op parts through (a) a two-stage stream-chained batchgrid
 * pipeline and (b) a hand-rolled SQS loop (batches of 10 in, K consumers receive and delete), on
 * the same SQS backend, in one run; at two sizes, with and without packing several parts per
 * message. Prints parts/s, ratios, history events and peak memory.
 */
interface Options {
  parts: number[];
  workers: number;
  workerConcurrency: number;
  concurrency: number;
}

const cli = () => distPath('manager/cli/main.js');
const mib = (n: number) => `${n} MiB`;

function child(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** (b) The hand-rolled loop: producer sends batches of 10; K consumer processes receive and delete. */
async function rawLoop(aws: AwsClients, n: number, consumers: number): Promise<{ seconds: number }> {
  const name = `bench-raw-${randomBytes(4).toString('hex')}`;
  const url = (await aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  try {
    const procs = Array.from({ length: consumers }, () => child([distPath('scripts/bench/raw-consumer.js'), url, '3'], {}));
    const outputs = procs.map(
      (p) =>
        new Promise<{ count: number; lastAt: number }>((resolve, reject) => {
          let out = '';
          p.stdout!.on('data', (d) => (out += d));
          p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`raw consumer exited ${code}`))));
        }),
    );
    const started = Date.now();
    const bodies = Array.from({ length: n }, (_, i) => JSON.stringify({ part: i }));
    await sendBodies(aws.sqs, url, bodies);
    const results = await Promise.all(outputs);
    const total = results.reduce((a, r) => a + r.count, 0);
    if (total < n) throw new Error(`raw loop consumed ${total} of ${n} messages`);
    return { seconds: (Math.max(...results.map((r) => r.lastAt)) - started) / 1000 };
  } finally {
    await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  }
}

/** (a) The engine: a fresh orchestrator and fleet per run, so their peak memory belongs to this run. */
async function engineRun(aws: AwsClients, n: number, o: Options, partsPerMessage: number | undefined) {
  const cfg = config();
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const taskQueue = `bench-${prefix}`;
  const env = { BATCHGRID_QUEUE_PREFIX: prefix, BATCHGRID_TASK_QUEUE: taskQueue };
  const db = createPool();
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  const orchestrator = child([cli(), 'orchestrator'], env);
  const fleet = Array.from({ length: o.workers }, () => child([cli(), 'fleet-worker', '--fleet', 'bench', '--concurrency', String(o.workerConcurrency)], env));
  const orchMem = trackMemory(orchestrator.pid!);
  const fleetMem = trackMemory(fleet[0].pid!);
  try {
    await waitUntil('the orchestrator to poll', async () => {
      const r = await temporal.workflowService.describeTaskQueue({ namespace: cfg.TEMPORAL_NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: 1 });
      return (r.pollers?.length ?? 0) > 0;
    });
    await waitUntil('the fleet queue', async () => Boolean((await aws.sqs.send(new GetQueueUrlCommand({ QueueName: fleetQueueName(prefix, 'bench') }))).QueueUrl));
    const jobId = `bench-${prefix}-${n}`;
    const inputPrefix = inputPrefixOf(jobId);
    const manifest = Array.from({ length: n }, (_, i) => JSON.stringify({ key: `item-${i}` })).join('\n');
    await aws.s3.send(new PutObjectCommand({ Bucket: cfg.BATCHGRID_BUCKET, Key: `${inputPrefix}${DEFAULT_MANIFEST_KEY}`, Body: manifest }));
    const compiled = compilePipelineObject({
      apiVersion: 'batchgrid/v1',
      kind: 'Pipeline',
      name: 'bench',
      fleet: 'bench',
      concurrency: o.concurrency,
      input: { split: { by: 'manifest' } },
      stages: [
        { id: 'first', task: 'noop' },
        { id: 'second', task: 'noop', needs: ['first'], chain: 'stream' },
      ],
    });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    const started = Date.now();
    const { handle } = await launchJob({ db, temporal, taskQueue, bucket: cfg.BATCHGRID_BUCKET }, { jobId, pipeline: compiled.pipeline, inputPrefix, options: { partsPerMessage } });
    const summary = await handle.result();
    const seconds = (Date.now() - started) / 1000;
    if (summary.stages.some((s) => s.succeeded !== n)) throw new Error(`engine run lost parts: ${JSON.stringify(summary.stages)}`);
    const history = await handle.fetchHistory();
    // Postgres bytes per part-stage (task_runs rows and index entries), as the job left them and once compacted.
    const liveBytes = (await storeBytesPerPartStage(db, jobId)) ?? 0;
    await compactJob(db, jobId);
    const compactedBytes = (await storeBytesPerPartStage(db, jobId)) ?? 0;
    return { seconds, events: history.events?.length ?? 0, orchestratorMiB: orchMem.peakMiB(), workerMiB: fleetMem.peakMiB(), liveBytes, compactedBytes };
  } finally {
    orchMem.stop();
    fleetMem.stop();
    await Promise.all([stop(orchestrator), ...fleet.map(stop)]);
    await connection.close();
    await db.end();
  }
}

async function run(): Promise<void> {
  const program = new Command('bench')
    .option('--parts <list>', 'comma-separated sizes N', '2000,20000')
    .option('--workers <n>', 'fleet worker processes, and raw-loop consumer processes', '2')
    .option('--worker-concurrency <n>', 'parts each fleet worker runs at once', '64')
    .option('--concurrency <n>', 'the pipeline window (parts in flight)', '2000')
    .parse(process.argv);
  const raw = program.opts();
  const o: Options = { parts: String(raw.parts).split(',').map(Number), workers: Number(raw.workers), workerConcurrency: Number(raw.workerConcurrency), concurrency: Number(raw.concurrency) };
  const cfg = config();
  const aws = createAwsClients();
  const db = createPool();
  await migrate(db);
  await db.end();
  const rows: string[][] = [['N', 'raw loop parts/s', 'engine packed parts/s', 'ratio', 'engine unpacked parts/s', 'ratio', 'history events', 'orchestrator peak', 'fleet worker peak', 'PG bytes/part-stage live', 'compacted']];
  process.stdout.write(`SQS at ${cfg.endpoints.sqs} (${cfg.BATCHGRID_SQS_BACKEND}); ${o.workers} fleet workers × ${o.workerConcurrency}; window ${o.concurrency}\n`);
  try {
    for (const n of o.parts) {
      const r = await rawLoop(aws, n, o.workers);
      const rawRate = n / r.seconds;
      process.stdout.write(`N=${n} raw loop: ${r.seconds.toFixed(1)} s, ${rawRate.toFixed(0)} parts/s\n`);
      const packed = await engineRun(aws, n, o, undefined);
      process.stdout.write(`N=${n} engine (packed): ${packed.seconds.toFixed(1)} s, ${(n / packed.seconds).toFixed(0)} parts/s, ${packed.events} history events, orchestrator ${mib(packed.orchestratorMiB)}, worker ${mib(packed.workerMiB)}, Postgres ${packed.liveBytes.toFixed(0)} bytes per part-stage (${packed.compactedBytes.toFixed(1)} compacted)\n`);
      const unpacked = await engineRun(aws, n, o, 1);
      process.stdout.write(`N=${n} engine (1 part/message): ${unpacked.seconds.toFixed(1)} s, ${(n / unpacked.seconds).toFixed(0)} parts/s, ${unpacked.events} history events\n`);
      rows.push([
        String(n),
        rawRate.toFixed(0),
        (n / packed.seconds).toFixed(0),
        (n / packed.seconds / rawRate).toFixed(2),
        (n / unpacked.seconds).toFixed(0),
        (n / unpacked.seconds / rawRate).toFixed(2),
        String(packed.events),
        mib(packed.orchestratorMiB),
        mib(packed.workerMiB),
        packed.liveBytes.toFixed(0),
        packed.compactedBytes.toFixed(1),
      ]);
    }
  } finally {
    destroyAwsClients(aws);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n')}\n`);
  process.stdout.write('\nparts/s counts each part once (the engine runs every part through both stages: two task messages and two completions per part).\n');
}

run().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
