import { describeAwsError, isQueueGone } from '../../common/sqs/errors';
import { delay, retryDelayMs } from '../../common/backoff';
import { messagesToReceive } from '../../worker/fleet/poller';

describe('retryDelayMs', () => {
  it('doubles from the base with half the delay random', () => {
    expect(retryDelayMs(0, { baseMs: 100 }, () => 0)).toBe(50);
    expect(retryDelayMs(0, { baseMs: 100 }, () => 1)).toBe(100);
    expect(retryDelayMs(3, { baseMs: 100 }, () => 0)).toBe(400);
    expect(retryDelayMs(3, { baseMs: 100 }, () => 1)).toBe(800);
  });

  it('never exceeds the maximum, even for huge retry numbers', () => {
    expect(retryDelayMs(50, { baseMs: 100, maxMs: 5000 }, () => 1)).toBe(5000);
    expect(retryDelayMs(10_000, {}, () => 1)).toBe(20_000);
    expect(retryDelayMs(-1, { baseMs: 100 }, () => 1)).toBe(100);
  });

  it('uses defaults of 200 ms base and 20 s max', () => {
    expect(retryDelayMs(0, {}, () => 1)).toBe(200);
  });
});

describe('delay', () => {
  it('resolves false at once when aborted', async () => {
    const ac = new AbortController();
    const p = delay(60_000, ac.signal);
    ac.abort();
    await expect(p).resolves.toBe(false);
  });

  it('resolves true after the time', async () => {
    await expect(delay(1)).resolves.toBe(true);
  });
});

describe('messagesToReceive', () => {
  it('asks for one message per free slot when messages hold one part', () => {
    expect(messagesToReceive(4, [])).toBe(4);
    expect(messagesToReceive(25, [1, 1])).toBe(10);
  });

  it('asks for fewer messages when recent messages held several parts, but at least one', () => {
    expect(messagesToReceive(8, [1, 4, 2])).toBe(2);
    expect(messagesToReceive(3, [10])).toBe(1);
  });
});

describe('describeAwsError', () => {
  it('marks throttling and 5xx retryable, 4xx not', () => {
    expect(describeAwsError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 }, $fault: 'client' })).toMatchObject({ code: 'ThrottlingException', retryable: true });
    expect(describeAwsError({ name: 'InternalError', $metadata: { httpStatusCode: 500 }, $fault: 'server' })).toMatchObject({ status: 500, retryable: true });
    expect(describeAwsError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 }, $fault: 'client' })).toMatchObject({ code: 'AccessDenied', retryable: false });
  });

  it('treats network errors as retryable and names them by their code', () => {
    expect(describeAwsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'ECONNREFUSED', retryable: true });
  });

  it('recognises a deleted queue in both protocols', () => {
    expect(isQueueGone({ name: 'QueueDoesNotExist' })).toBe(true);
    expect(isQueueGone({ name: 'Error', Code: 'AWS.SimpleQueueService.NonExistentQueue' })).toBe(true);
    expect(isQueueGone({ name: 'AccessDenied' })).toBe(false);
  });
});
