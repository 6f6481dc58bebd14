/**
 * SQS throughput on the local servers: sends N messages with SendMessageBatch (10 per call,
 * --concurrency calls in flight), then receives them with long polling (10 per call) and deletes
 * them with DeleteMessageBatch; prints msgs/s per phase and for the round trip, per backend.
 *
 *   node dist/scripts/sqs-roundtrip.js --backend moto|elasticmq|both --messages 2000 [--concurrency 4] [--body-bytes 256]
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { createAwsClients } from '../common/aws';
import { runLanes } from '../common/concurrency';
import { loadConfig } from '../common/config';
import { ensureStack } from '../manager/devstack';

type Backend = 'moto' | 'elasticmq';

interface Figures {
  backend: Backend;
  endpoint: string;
  messages: number;
  sendMs: number;
  receiveMs: number;
}

/** Runs `workers` copies of fn in parallel until each returns false. */
async function inParallel(workers: number, fn: () => Promise<boolean>): Promise<void> {
  await runLanes(workers, async () => {
    while (await fn());
  });
}

async function roundTrip(backend: Backend, messages: number, concurrency: number, bodyBytes: number): Promise<Figures> {
  const cfg = loadConfig({ ...process.env, BATCHGRID_SQS_BACKEND: backend });
  const sqs: SQSClient = createAwsClients(cfg).sqs;
  const endpoint = cfg.endpoints.sqs ?? 'AWS';
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `roundtrip-${backend}-${randomBytes(4).toString('hex')}`, Attributes: { VisibilityTimeout: '120' } }));
  const queueUrl = QueueUrl!;
  try {
    const body = 'x'.repeat(bodyBytes);
    let nextBatch = 0;
    const batches = Math.ceil(messages / 10);
    const sendStart = performance.now();
    await inParallel(concurrency, async () => {
      const b = nextBatch++;
      if (b >= batches) return false;
      const count = Math.min(10, messages - b * 10);
      const entries = Array.from({ length: count }, (_, i) => ({ Id: String(i), MessageBody: `${b * 10 + i} ${body}` }));
      const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (res.Failed?.length) throw new Error(`SendMessageBatch failed for ${res.Failed.length} entries: ${res.Failed[0].Message}`);
      return true;
    });
    const sendMs = performance.now() - sendStart;

    const seen = new Set<string>();
    const deadline = Date.now() + 10 * 60_000;
    const receiveStart = performance.now();
    await inParallel(concurrency, async () => {
      if (seen.size >= messages) return false;
      if (Date.now() > deadline) throw new Error(`received ${seen.size} of ${messages} messages in 10 minutes`);
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) return seen.size < messages;
      const res = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      if (res.Failed?.length) throw new Error(`DeleteMessageBatch failed for ${res.Failed.length} entries: ${res.Failed[0].Message}`);
      for (const m of Messages) seen.add(m.MessageId!);
      return seen.size < messages;
    });
    const receiveMs = performance.now() - receiveStart;
    return { backend, endpoint, messages, sendMs, receiveMs };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    sqs.destroy();
  }
}

const rate = (n: number, ms: number) => `${Math.round((n * 1000) / ms)}`;

function print(rows: Figures[]): void {
  const header = ['backend', 'endpoint', 'messages', 'send msg/s', 'receive+delete msg/s', 'round trip msg/s', 'round trip s'];
  const cells = rows.map((r) => [r.backend, r.endpoint, String(r.messages), rate(r.messages, r.sendMs), rate(r.messages, r.receiveMs), rate(r.messages, r.sendMs + r.receiveMs), ((r.sendMs + r.receiveMs) / 1000).toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  for (const line of [header, ...cells]) process.stdout.write(`${line.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()}\n`);
}

async function run(): Promise<void> {
  const opts = new Command('sqs-roundtrip')
    .addOption(new Option('--backend <backend>', 'which local SQS to measure').choices(['moto', 'elasticmq', 'both']).default('both'))
    .option('--messages <n>', 'messages per backend', (v) => Number.parseInt(v, 10), 2000)
    .option('--concurrency <n>', 'SQS calls in flight per phase', (v) => Number.parseInt(v, 10), 4)
    .option('--body-bytes <n>', 'approximate size of each message body', (v) => Number.parseInt(v, 10), 256)
    .parse(process.argv)
    .opts<{ backend: Backend | 'both'; messages: number; concurrency: number; bodyBytes: number }>();
  const backends: Backend[] = opts.backend === 'both' ? ['moto', 'elasticmq'] : [opts.backend];
  await ensureStack({ sqsBackend: backends.includes('elasticmq') ? 'elasticmq' : 'moto' });
  const rows: Figures[] = [];
  for (const b of backends) rows.push(await roundTrip(b, opts.messages, opts.concurrency, opts.bodyBytes));
  print(rows);
}

run().catch((err: unknown) => {
  process.stderr.write(`sqs-roundtrip: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
