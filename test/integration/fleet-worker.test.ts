import { CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  DeleteMessageBatchCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { completionQueueName, createAwsClients, destroyAwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { stageClosedKeyOf } from '../../common/layout';
import { queueNameOf } from '../../common/sqs/queues';
import { CompletionMessage, StageRunMessage, WorkerEvent, type StartedPart, type DeadLetter, type PartResult, type PartTask, type TaskMessage } from '../../common/messages';
import { createFleetWorker, ensureFleetQueues, type FleetWorker, type FleetWorkerOptions } from '../../worker/fleet';

/**
 * The fleet worker against the configured SQS and S3 endpoints (AWS_ENDPOINT_URL…). Every test
 * has its own fleet (queues), job id and key prefix; everything is deleted afterwards.
 */

// The project's testTimeout is not applied per project by jest; these tests wait for real queues.
jest.setTimeout(60_000);

const runId = randomBytes(3).toString('hex');
const queuePrefix = `t${runId}`;
const keyPrefix = `test/fleet-worker/${runId}/`;
const bucket = config().BATCHGRID_BUCKET;
const clients = createAwsClients();
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const workers: FleetWorker[] = [];
let seq = 0;

beforeAll(async () => {
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 0 })));
});

afterAll(async () => {
  const queues = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: queuePrefix }));
  await Promise.all((queues.QueueUrls ?? []).map((QueueUrl) => clients.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined)));
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix }));
  const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
  if (keys.length > 0) await clients.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  destroyAwsClients(clients);
});

/** A fresh fleet with its worker started, a job id and a completion queue. */
async function setup(options: Partial<FleetWorkerOptions> = {}) {
  const n = ++seq;
  const fleet = `f${n}`;
  const jobId = `job${runId}${n}`;
  const stageId = 's1';
  const worker = createFleetWorker({ fleet, clients, queuePrefix, waitTimeSeconds: 1, heartbeatIntervalMs: 500, completionBatchMaxDelayMs: 100, log: silent, ...options });
  workers.push(worker);
  await worker.start();
  const completion = await clients.sqs.send(new CreateQueueCommand({ QueueName: completionQueueName(queuePrefix, jobId, stageId) }));
  const queues = worker.queues!;
  const send = (task: string, parts: Partial<PartTask>[], extra: Partial<TaskMessage> = {}) => {
    const message: TaskMessage = {
      v: 1, type: 'task', jobId, stageId, task, params: {}, bucket, completionQueueUrl: completion.QueueUrl!, timeoutMs: 30_000, sentAt: Date.now(),
      parts: parts.map((p, i) => ({ part: i, attempt: 1, inputs: [], outputPrefix: `${keyPrefix}jobs/${jobId}/stages/${stageId}/parts/${p.part ?? i}/`, ...p })),
      ...extra,
    };
    return sendRaw(JSON.stringify(message));
  };
  const sendRaw = (body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: queues.inputQueueUrl, MessageBody: body }));
  return { worker, fleet, jobId, stageId, queues, completionQueueUrl: completion.QueueUrl!, send, sendRaw };
}

/** Polls until `cond` returns a truthy value (or throws after `timeoutMs`). */
async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function receiveAll(queueUrl: string, waitTimeSeconds = 1): Promise<Message[]> {
  const r = await clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitTimeSeconds, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  const messages = r.Messages ?? [];
  if (messages.length > 0) {
    await clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return messages;
}

/** Start notices the workers posted beside their results (collectResults sets them aside here). */
const starts: StartedPart[] = [];

/** Reads completion messages until `count` results arrived; returns them by part, and the messages. */
async function collectResults(queueUrl: string, count: number): Promise<{ results: PartResult[]; messages: CompletionMessage[] }> {
  const messages: CompletionMessage[] = [];
  await waitFor(`${count} results`, async () => {
    for (const m of await receiveAll(queueUrl)) {
      const body = StageRunMessage.parse(JSON.parse(m.Body!));
      if (body.type === 'completion') messages.push(body);
      else starts.push(...body.parts);
    }
    return messages.reduce((n, m) => n + m.results.length, 0) >= count;
  });
  const results = messages.flatMap((m) => m.results).sort((a, b) => a.part - b.part);
  return { results, messages };
}

async function queueDepth(queueUrl: string): Promise<number> {
  const r = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function readObject(key: string): Promise<string> {
  const r = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return r.Body!.transformToString();
}

describe('fleet worker', () => {
  it('ensureFleetQueues is idempotent and sets the redrive policy', async () => {
    const a = await ensureFleetQueues(clients.sqs, queuePrefix, 'ensure');
    const b = await ensureFleetQueues(clients.sqs, queuePrefix, 'ensure');
    expect(b).toEqual(a);
    const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: a.inputQueueUrl, AttributeNames: ['All'] }));
    expect(attrs.Attributes?.VisibilityTimeout).toBe('60');
    const dlqArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: a.dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    expect(JSON.parse(attrs.Attributes!.RedrivePolicy!)).toMatchObject({ deadLetterTargetArn: dlqArn, maxReceiveCount: 10 });

    // SQS itself moves a message received more than 10 times to the DLQ, original body intact.
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: a.inputQueueUrl, MessageBody: 'poison' }));
    for (let i = 1; i <= 10; i++) {
      const r = await waitFor(`receive ${i}`, async () => (await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: a.inputQueueUrl, WaitTimeSeconds: 1 }))).Messages?.[0]);
      await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: a.inputQueueUrl, ReceiptHandle: r.ReceiptHandle!, VisibilityTimeout: 0 }));
    }
    expect((await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: a.inputQueueUrl, WaitTimeSeconds: 0 }))).Messages ?? []).toEqual([]);
    const dead = await waitFor('the redriven message', async () => (await receiveAll(a.dlqUrl))[0]);
    expect(dead.Body).toBe('poison');
  });

  it('runs a 3-part message over byte ranges of one object and posts results and outputs', async () => {
    const { send, jobId, stageId, completionQueueUrl, queues, worker } = await setup();
    const text = 'alpha\nbeta\r\ngamma\ndelta\nepsilon\nzeta'; // \r\n, and a last line without newline
    const key = `${keyPrefix}input/${jobId}.txt`;
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
    const cut1 = text.indexOf('gamma');
    const cut2 = text.indexOf('epsilon');
    const ranges = [[0, cut1], [cut1, cut2], [cut2, text.length]];
    await send('lines.upper', ranges.map(([start, end]) => ({ inputs: [{ key, start, end }] })));

    const { results, messages } = await collectResults(completionQueueUrl, 3);
    expect(messages.every((m) => m.jobId === jobId && m.stageId === stageId && m.workerId === worker.workerId)).toBe(true);
    expect(messages.length).toBeLessThanOrEqual(2); // batched, not one message per part
    const expected = ['ALPHA\nBETA\n', 'GAMMA\nDELTA\n', 'EPSILON\nZETA\n'];
    results.forEach((r, i) => {
      const outKey = `${keyPrefix}jobs/${jobId}/stages/${stageId}/parts/${i}/out.txt`;
      expect(r).toMatchObject({ part: i, attempt: 1, status: 'succeeded', result: { lines: 2 }, outputs: [{ key: outKey, bytes: expected[i].length }] });
      expect(r.bytesIn).toBe(ranges[i][1] - ranges[i][0]);
      expect(r.bytesOut).toBe(expected[i].length);
      expect(r.startedAt).toBeGreaterThanOrEqual(r.receivedAt);
      expect(r.finishedAt).toBeGreaterThanOrEqual(r.startedAt);
    });
    for (let i = 0; i < 3; i++) expect(await readObject(results[i].outputs[0].key)).toBe(expected[i]);
    // The task message is deleted once its completions are posted.
    await waitFor('the task message to be deleted', async () => (await queueDepth(queues.inputQueueUrl)) === 0);
    expect(worker.stats()).toMatchObject({ partsDone: 3, partsFailed: 0, bytesIn: text.length });
  });

  it('dead-letters malformed messages with their reason and keeps processing', async () => {
    const { send, sendRaw, queues, completionQueueUrl, worker } = await setup();
    const deadLettered: string[] = [];
    worker.on('message:dead-lettered', (e) => deadLettered.push(e.reason));
    await sendRaw('not json at all');
    await sendRaw(JSON.stringify({ v: 1, type: 'task', parts: [] }));
    await send('noop', [{ inputs: [{ key: 'a' }, { key: 'b' }] }]);

    const { results } = await collectResults(completionQueueUrl, 1);
    expect(results[0]).toMatchObject({ status: 'succeeded', result: { inputs: 2 } });
    await waitFor('two dead letters', () => deadLettered.length === 2);
    const letters: DeadLetter[] = [];
    await waitFor('two dead letters in the DLQ', async () => {
      for (const m of await receiveAll(queues.dlqUrl)) letters.push(JSON.parse(m.Body!));
      return letters.length === 2;
    });
    const byBody = Object.fromEntries(letters.map((l) => [l.body, l]));
    expect(byBody['not json at all']).toMatchObject({ reason: expect.stringMatching(/^body is not JSON/), queueUrl: queues.inputQueueUrl, workerId: worker.workerId });
    const schemaLetter = letters.find((l) => l.body !== 'not json at all')!;
    expect(schemaLetter.reason).toMatch(/jobId/);
    expect(schemaLetter.reason).toMatch(/parts/);
    await waitFor('the input queue to be empty', async () => (await queueDepth(queues.inputQueueUrl)) === 0);
  });

  it('fails parts permanently for an unknown task, bad params and a missing input', async () => {
    const { send, completionQueueUrl, worker } = await setup();
    await send('no.such.task', [{ part: 0 }]);
    await send('test.sleep-fail', [{ part: 1 }], { params: { sleepMs: 'soon', failTimes: -1 } });
    await send('lines.count', [{ part: 2, inputs: [{ key: `${keyPrefix}missing.txt` }] }]);

    const { results } = await collectResults(completionQueueUrl, 3);
    expect(results[0]).toMatchObject({ status: 'failed', error: { type: 'UnknownTaskError', retryable: false } });
    expect(results[0].error!.message).toBe(`no handler registered for task 'no.such.task' on this worker (registered: ${worker.options.registry.names.join(', ')})`);
    expect(results[0].error!.message).toContain('lines.count, lines.upper, noop, test.sleep-fail');
    expect(results[1]).toMatchObject({ status: 'failed', error: { type: 'InvalidParamsError', retryable: false } });
    expect(results[1].error!.message).toMatch(/sleepMs: .*; failTimes: /);
    expect(results[2]).toMatchObject({ status: 'failed', error: { retryable: false } });
    expect(results[2].error!.message).toContain(`bucket '${bucket}', key '${keyPrefix}missing.txt'`);
  });

  it('fails the first failTimes attempts with a retryable error, then succeeds', async () => {
    const { send, completionQueueUrl } = await setup();
    await send('test.sleep-fail', [{ part: 0, attempt: 1 }, { part: 1, attempt: 2 }, { part: 2, attempt: 3 }], { params: { failTimes: 2 } });
    const { results } = await collectResults(completionQueueUrl, 3);
    expect(results.map((r) => [r.attempt, r.status, r.error?.retryable])).toEqual([
      [1, 'failed', true],
      [2, 'failed', true],
      [3, 'succeeded', undefined],
    ]);
    expect(results[0].error!.message).toMatch(/failTimes/);
  });

  it('times a hanging part out with a retryable TimeoutError', async () => {
    const { send, completionQueueUrl, worker } = await setup();
    await send('test.sleep-fail', [{}], { params: { hang: true }, timeoutMs: 300 });
    const { results } = await collectResults(completionQueueUrl, 1);
    expect(results[0]).toMatchObject({ status: 'failed', error: { type: 'TimeoutError', retryable: true } });
    expect(results[0].finishedAt - results[0].startedAt).toBeGreaterThanOrEqual(290);
    expect(worker.stats().partsFailed).toBe(1);
  });

  it('keeps a long part invisible by extending its visibility', async () => {
    const { send, completionQueueUrl, worker } = await setup({ visibilityTimeoutSeconds: 3, concurrency: 2 });
    const starts: number[] = [];
    worker.on('part:start', (e) => starts.push(e.part));
    await send('test.sleep-fail', [{}], { params: { sleepMs: 5000 } });
    const { results } = await collectResults(completionQueueUrl, 1);
    expect(results[0].status).toBe('succeeded');
    expect(starts).toEqual([0]); // never redelivered to the idle second slot
  });

  it('stop() during a long part hands the message back without a completion, and reports start and stop events', async () => {
    const { send, queues, completionQueueUrl, worker } = await setup();
    const started = new Promise((resolve) => worker.once('part:start', resolve));
    await send('test.sleep-fail', [{}], { params: { hang: true }, timeoutMs: 600_000 });
    await started;
    const aborted: string[] = [];
    worker.on('part:aborted', (e) => aborted.push(e.reason));
    await worker.stop({ graceMs: 100 });
    await worker.stop(); // safe twice
    expect(aborted).toHaveLength(1);

    const back = await waitFor('the message to be visible again', async () => {
      const m = await receiveAll(queues.inputQueueUrl, 0);
      return m.length > 0 ? m : undefined;
    }, 20_000);
    expect(Number(back[0].Attributes?.ApproximateReceiveCount)).toBe(2);
    // Only the notice that the part started: no completion.
    expect((await receiveAll(completionQueueUrl, 0)).map((m) => StageRunMessage.parse(JSON.parse(m.Body!)).type)).toEqual(['started']);

    const events: WorkerEvent[] = [];
    await waitFor('start and stop events', async () => {
      for (const m of await receiveAll(queues.eventsQueueUrl)) events.push(WorkerEvent.parse(JSON.parse(m.Body!)));
      return events.some((e) => e.event === 'stop');
    });
    expect(events.find((e) => e.event === 'start')).toMatchObject({ workerId: worker.workerId, slots: 4, busySlots: 0 });
    expect(events.find((e) => e.event === 'stop')).toMatchObject({ workerId: worker.workerId, partsDone: 0, partsFailed: 0, busySlots: 0 });
  });

  it('drops results for a closed stage whose completion queue was deleted, deletes the task and skips later messages of that stage', async () => {
    const { send, queues, completionQueueUrl, worker, jobId, stageId } = await setup();
    const closedKey = stageClosedKeyOf(jobId, stageId);
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: closedKey, Body: '{"status":"cancelled"}' }));
    await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: completionQueueUrl }));
    const dropped = new Promise((resolve) => worker.once('completions:dropped', resolve));
    await send('noop', [{}]);
    await dropped;
    await waitFor('the task message to be deleted', async () => (await queueDepth(queues.inputQueueUrl)) === 0);

    const starts: number[] = [];
    worker.on('part:start', (e) => starts.push(e.part));
    const skipped = new Promise((resolve) => worker.once('message:skipped', resolve));
    await send('noop', [{ part: 7 }]);
    await skipped;
    expect(starts).toEqual([]);
    await waitFor('the skipped message to be deleted', async () => (await queueDepth(queues.inputQueueUrl)) === 0);
    await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: closedKey }));
  });

  it('re-creates a completion queue SQS lost (no closed marker) and delivers the result: a missing queue is not a cancel', async () => {
    const { send, queues, completionQueueUrl, worker } = await setup();
    await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: completionQueueUrl }));
    const dropped: unknown[] = [];
    worker.on('completions:dropped', (e) => dropped.push(e));
    const recreated = new Promise((resolve) => worker.once('queue:recreated', resolve));
    await send('noop', [{}]);
    await recreated;
    const { results } = await collectResults(completionQueueUrl, 1);
    expect(results.map((r) => [r.part, r.status])).toEqual([[0, 'succeeded']]);
    expect(dropped).toEqual([]);
    await waitFor('the task message to be deleted', async () => (await queueDepth(queues.inputQueueUrl)) === 0);
  });

  it('re-creates its fleet queues when SQS lost them, and goes on taking parts', async () => {
    const { send, queues, completionQueueUrl } = await setup();
    await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queues.inputQueueUrl }));
    await waitFor('the input queue to be re-created', async () => {
      const r = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: queueNameOf(queues.inputQueueUrl) }));
      return (r.QueueUrls ?? []).includes(queues.inputQueueUrl);
    });
    await send('noop', [{}]);
    const { results } = await collectResults(completionQueueUrl, 1);
    expect(results.map((r) => r.status)).toEqual(['succeeded']);
  });
});
