import { packMessages } from '../../activities/task-sender';
import { backoffMs, PartWindow, shouldRetry, slotsFor, withinTolerance } from '../../activities/window';
import { MAX_MESSAGE_BYTES, TaskMessage } from '../../common/messages';

const policy = { attempts: 3, backoffMs: 1000, maxBackoffMs: 3000 };

describe('PartWindow', () => {
  test('tracks sent, retrying and closed parts', () => {
    const w = new PartWindow();
    w.sent(1, 1, 100);
    w.sent(2, 1, 200);
    expect(w.inFlightCount).toBe(2);
    w.waitRetry(1, 1, 50);
    expect([w.inFlightCount, w.waitingCount]).toEqual([1, 1]);
    expect(w.dueRetries(40, 10)).toEqual([]);
    expect(w.dueRetries(60, 10)).toEqual([{ part: 1, attempt: 2 }]);
    expect(w.nextRetryAt()).toBe(50);
    expect(w.inFlightParts()).toEqual([{ part: 2, attempt: 1 }]);
    expect(w.overdue(150)).toEqual([]);
    expect(w.overdue(200)).toEqual([{ part: 2, attempt: 1, started: false }]);
    // A start notice moves the deadline to start + timeout + slack, for the outstanding attempt only.
    expect(w.started(2, 9, 500)).toBe(false);
    expect(w.started(2, 1, 500)).toBe(true);
    expect(w.overdue(200)).toEqual([]);
    expect(w.runningCount).toBe(1);
    w.close(2);
    w.sent(1, 2, 300);
    expect(w.attemptOf(1)).toBe(2);
    w.close(1);
    expect(w.empty).toBe(true);
  });

  test('due retries come oldest first and respect the limit', () => {
    const w = new PartWindow();
    w.waitRetry(7, 2, 30);
    w.waitRetry(3, 1, 10);
    w.waitRetry(5, 1, 20);
    expect(w.dueRetries(100, 2)).toEqual([
      { part: 3, attempt: 2 },
      { part: 5, attempt: 2 },
    ]);
  });
});

describe('retry policy', () => {
  test('backoff doubles and is capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(policy, a))).toEqual([1000, 2000, 3000, 3000]);
  });
  test('retries only retryable errors while attempts remain', () => {
    expect(shouldRetry(policy, 1, true)).toBe(true);
    expect(shouldRetry(policy, 3, true)).toBe(false);
    expect(shouldRetry(policy, 1, false)).toBe(false);
  });
  test('tolerance by count and by percentage', () => {
    expect(withinTolerance({}, 0, 10)).toBe(true);
    expect(withinTolerance({}, 1, 10)).toBe(false);
    expect(withinTolerance({ failedParts: 2 }, 2, 10)).toBe(true);
    expect(withinTolerance({ failedParts: 2 }, 3, 10)).toBe(false);
    expect(withinTolerance({ failedPercent: 10 }, 1, 10)).toBe(true);
    expect(withinTolerance({ failedPercent: 10 }, 2, 10)).toBe(false);
  });
});

describe('packMessages', () => {
  const header = { v: 1 as const, type: 'task' as const, jobId: 'j', stageId: 's', task: 'noop', params: {}, bucket: 'b', completionQueueUrl: 'q', timeoutMs: 1000 };
  const part = (n: number, keyBytes = 10) => ({ part: n, attempt: 1, inputs: [{ key: 'k'.repeat(keyBytes) }], outputPrefix: `p/${n}/` });

  test('packs up to partsPerMessage parts per valid task message', () => {
    const { bodies, tooLarge } = packMessages(header, [0, 1, 2, 3, 4].map((n) => part(n)), 2, 42);
    expect(bodies).toHaveLength(3);
    expect(tooLarge).toEqual([]);
    const parsed = bodies.map((b) => TaskMessage.parse(JSON.parse(b)));
    expect(parsed.map((m) => m.parts.map((p) => p.part))).toEqual([[0, 1], [2, 3], [4]]);
    expect(parsed[0].sentAt).toBe(42);
  });

  test('starts a new message before the size limit', () => {
    const big = Math.floor(MAX_MESSAGE_BYTES / 3);
    const { bodies } = packMessages(header, [0, 1, 2, 3].map((n) => part(n, big)), 10, 0);
    expect(bodies.length).toBe(2);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  test('sets aside a part too large for any message, and packs the others', () => {
    const { bodies, tooLarge } = packMessages(header, [part(0), part(1, MAX_MESSAGE_BYTES), part(2)], 10, 0);
    expect(tooLarge).toEqual([{ part: 1, attempt: 1, bytes: expect.any(Number) }]);
    expect(tooLarge[0].bytes).toBeGreaterThan(MAX_MESSAGE_BYTES);
    expect(bodies.map((b) => TaskMessage.parse(JSON.parse(b)).parts.map((p) => p.part))).toEqual([[0, 2]]);
  });
});

describe('slotsFor: a job window shared by its stages', () => {
  test('takes everything free when no other stage waits', () => {
    expect(slotsFor(10, 4, 4, 0)).toBe(6);
    expect(slotsFor(10, 10, 5, 0)).toBe(0);
  });
  test('stays within its fair share while others wait', () => {
    // Upstream holds 2 of 2 slots; the stream stage waits: upstream may not take the next free slot.
    expect(slotsFor(2, 1, 1, 1)).toBe(0);
    // The waiting stage, holding nothing, gets the free slot.
    expect(slotsFor(2, 1, 0, 1)).toBe(1);
    // Three stages waiting besides this one: share = ceil(100 / 4) = 25.
    expect(slotsFor(100, 30, 20, 3)).toBe(5);
  });
  test('never negative', () => {
    expect(slotsFor(10, 12, 9, 1)).toBe(0);
  });
});
