import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients, destroyAwsClients } from '../../common/aws';
import { bullmq } from '../../scripts/bench/peers/bullmq';
import { rawSqs } from '../../scripts/bench/peers/raw-sqs';
import { stopChildren } from '../../scripts/bench/processes';
import type { benchFanOut } from '../../scripts/bench/peers/temporal-workflow';
import { ensureTestStack, uniqueName, withInProcessWorker, withTimeout } from '../support/stack';

/**
 * The benchmark's peers do the work they are timed for: every part once, no more. (Their speed is
 * the benchmark's business, never a test's.)
 */
describe('benchmark peers', () => {
  beforeAll(async () => {
    await ensureTestStack();
  }, 300_000);

  // A peer whose run missed its deadline never reaches its own cleanup: its consumers would outlive
  // the test and hold jest open.
  afterEach(stopChildren);

  test('the hand-rolled Temporal fan-out runs every part once, within its window, across continue-as-new', async () => {
    const taskQueue = uniqueName('bench-fanout-test');
    const calls = new Map<number, number>();
    let running = 0;
    let peak = 0;
    const activities = {
      async benchPart(part: number) {
        calls.set(part, (calls.get(part) ?? 0) + 1);
        running += 1;
        peak = Math.max(peak, running);
        await sleep(5);
        running -= 1;
        return { part };
      },
    };
    const result = await withInProcessWorker({ taskQueue, workflowsPath: require.resolve('../../scripts/bench/peers/temporal-workflow'), activities }, (client) =>
      withTimeout(
        client.workflow.execute<typeof benchFanOut>('benchFanOut', {
          taskQueue,
          workflowId: taskQueue,
          args: [{ parts: 45, window: 4, partsPerRun: 20, offset: 0, runsBefore: 0, eventsBefore: 0, completedBefore: 0 }],
        }),
        60_000,
        'the fan-out workflow',
      ),
    );
    expect(result.completed).toBe(45);
    expect(result.runs).toBe(3);
    expect([...calls.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(peak).toBeLessThanOrEqual(4);
    expect(result.historyEvents).toBeGreaterThan(45 * 3);
  });

  test.each([1, 10])('the raw SQS loop with %i part(s) per message consumes exactly N parts', async (perMessage) => {
    const aws = createAwsClients();
    try {
      // The runner throws unless its consumers counted exactly 95 parts.
      const r = await rawSqs(aws, 2, perMessage).run(95);
      expect(r.seconds).toBeGreaterThan(0);
      expect(Object.keys(r.memoryMiB)).toEqual(['consumer-1', 'consumer-2']);
    } finally {
      destroyAwsClients(aws);
    }
  });

  test('the raw SQS loop ends when a consumer gets no message at all (one message of 10 parts, two consumers)', async () => {
    const aws = createAwsClients();
    try {
      const r = await withTimeout(rawSqs(aws, 2, 10).run(10), 60_000, 'the raw SQS loop of one message');
      expect(r.seconds).toBeGreaterThan(0);
    } finally {
      destroyAwsClients(aws);
    }
  });

  test("BullMQ on the benchmark's own Redis completes exactly N jobs, then stops that Redis", async () => {
    const port = 16000 + Math.floor(Math.random() * 1000);
    const peer = bullmq({ workers: 2, slots: 4, port }, 1000);
    try {
      // The runner throws unless the workers' completions add up to exactly 250.
      const r = await peer.run(250);
      expect(Object.keys(r.memoryMiB).sort()).toEqual(['redis', 'worker-1', 'worker-2']);
    } finally {
      await peer.close!();
    }
    const net = await import('node:net');
    const refused = await new Promise((resolve) => net.connect(port, '127.0.0.1').once('connect', () => resolve(false)).once('error', () => resolve(true)));
    expect(refused).toBe(true);
  });
});
