import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fleetQueueName } from '../../common/aws';
import { ensureFleetQueues } from '../../worker/fleet';
import { startEngine, type TestEngine } from '../support/engine';

/** Faults the engine must absorb: every part accounted exactly once, output exact. */
describe('engine under faults', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  const parts = async (jobId: string, stageId = 'work') =>
    (await engine.db.pool.query(`SELECT part, status, attempt, error, result FROM task_runs WHERE job_id = $1 AND stage_id = $2 ORDER BY part`, [jobId, stageId])).rows;
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `row ${i}`).join('\n');
  const job = (params: Record<string, unknown>, stage: Record<string, unknown> = {}) => ({
    name: 'faults',
    concurrency: 4,
    input: { split: { by: 'lines', size: 1 } },
    stages: [{ id: 'work', task: 'test.sleep-fail', params, retry: { attempts: 3, backoff: '100ms', maxBackoff: '200ms' }, ...stage }],
  });
  const failureOf = async (handle: { result(): Promise<unknown> }) => {
    try {
      await handle.result();
      throw new Error('expected the job to fail');
    } catch (err) {
      return err as { cause?: { message: string; type: string; details?: unknown[] } };
    }
  };

  test('a handler that fails twice then succeeds is retried with backoff', async () => {
    const { jobId, handle } = await engine.submit(job({ failTimes: 2 }), { 'in.txt': lines(4) });
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ partsTotal: 4, succeeded: 4, failed: 0, retried: 4 });
    const rows = await parts(jobId);
    expect(rows.map((r) => [r.status, r.attempt])).toEqual(Array(4).fill(['succeeded', 3]));
  });

  test('a part that always fails fails the job, and within tolerance lets it succeed', async () => {
    const failing = await engine.submit(job({ failParts: [2] }), { 'in.txt': lines(4) });
    const err = await failureOf(failing.handle);
    expect(err.cause?.type).toBe('JobFailed');
    expect(err.cause?.message).toMatch(/stage work failed: 1 of 4 parts failed/);
    const rows = await parts(failing.jobId);
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded']);
    expect(rows[2]).toMatchObject({ attempt: 3, error: { retryable: true, message: 'part 2 is in failParts' } });
    const job2 = await engine.db.pool.query(`SELECT status FROM jobs WHERE job_id = $1`, [failing.jobId]);
    expect(job2.rows[0].status).toBe('failed');

    const tolerated = await engine.submit(job({ failParts: [2], permanent: true }, { tolerate: { failedParts: 1 } }), { 'in.txt': lines(4) });
    const summary = await tolerated.handle.result();
    expect(summary.status).toBe('succeeded');
    expect(summary.stages[0]).toMatchObject({ succeeded: 3, failed: 1 });
    // A permanent error is not retried.
    expect((await parts(tolerated.jobId))[2]).toMatchObject({ status: 'failed', attempt: 1 });
  });

  test('a part that hangs past its timeout is aborted and retried, then fails as timed out', async () => {
    const { jobId, handle } = await engine.submit(job({ hang: true }, { timeout: '1s', retry: { attempts: 2, backoff: '100ms' }, tolerate: { failedParts: 1 } }), { 'in.txt': lines(1) });
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ partsTotal: 1, failed: 1 });
    expect((await parts(jobId))[0]).toMatchObject({ status: 'failed', attempt: 2, error: { type: 'TimeoutError', retryable: true } });
  });

  test('an unknown task name fails its parts at once with a clear error', async () => {
    const { jobId, handle } = await engine.submit({ name: 'unknown', stages: [{ id: 'work', task: 'no.such-task' }] }, { 'a.txt': 'a' });
    const err = await failureOf(handle);
    expect(err.cause?.type).toBe('JobFailed');
    const [row] = await parts(jobId);
    expect(row).toMatchObject({ status: 'failed', attempt: 1, error: { type: 'UnknownTaskError', retryable: false } });
    expect(row.error.message).toMatch(/no handler registered for task 'no.such-task'/);
  });

  test('duplicate completion messages are counted once', async () => {
    // A fleet whose every completion batch is sent twice.
    const sqs = engine.aws.sqs;
    const doubled = Object.create(sqs) as SQSClient;
    let duplicated = 0;
    doubled.send = (async (command: unknown, ...rest: unknown[]) => {
      const send = sqs.send.bind(sqs) as (c: unknown, ...r: unknown[]) => Promise<unknown>;
      if (command instanceof SendMessageBatchCommand && command.input.QueueUrl?.includes('-done-')) {
        duplicated += command.input.Entries?.length ?? 0;
        await send(command, ...rest);
      }
      return send(command, ...rest);
    }) as SQSClient['send'];
    const [dup] = await engine.startFleet(1, { fleet: 'dup', clients: { s3: engine.aws.s3, sqs: doubled }, concurrency: 4 });
    try {
      const { jobId, handle } = await engine.submit({ ...job({}), fleet: 'dup' }, { 'in.txt': lines(10) });
      const summary = await handle.result();
      expect(duplicated).toBeGreaterThan(0);
      expect(summary.stages[0]).toMatchObject({ partsTotal: 10, succeeded: 10, failed: 0, retried: 0 });
      const rows = await parts(jobId);
      expect(rows.map((r) => r.part)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await engine.readJsonLines(summary.resultsKey!)).toHaveLength(10);
    } finally {
      await dup.stop();
    }
  });

  test('a malformed message on the input queue is dead-lettered with a reason and the fleet keeps going', async () => {
    const queues = await ensureFleetQueues(engine.aws.sqs, engine.queuePrefix, 'default');
    expect(queues.inputQueueUrl).toContain(fleetQueueName(engine.queuePrefix, 'default'));
    await engine.aws.sqs.send(new SendMessageCommand({ QueueUrl: queues.inputQueueUrl, MessageBody: '{"v":1,"type":"task","parts":"nope"}' }));
    const { handle } = await engine.submit(job({}), { 'in.txt': lines(3) });
    expect((await handle.result()).stages[0]).toMatchObject({ succeeded: 3 });
    const dead = await engine.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    const letters = (dead.Messages ?? []).map((m) => JSON.parse(m.Body!));
    expect(letters).toEqual(expect.arrayContaining([expect.objectContaining({ body: '{"v":1,"type":"task","parts":"nope"}', reason: expect.stringMatching(/parts/) })]));
    const attrs = await engine.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.inputQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});
