import type { SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { GATHER_MS, Poller, slotsForFullReceive } from '../../worker/fleet/poller';

describe('slotsForFullReceive', () => {
  it('is what ten messages of the largest recent size fill, at most every slot', () => {
    expect(slotsForFullReceive(64, [10, 10])).toBe(64);
    expect(slotsForFullReceive(64, [2, 5])).toBe(50);
    expect(slotsForFullReceive(8, [])).toBe(8);
  });
});

/**
 * A worker of 64 slots whose recent messages held 10 parts each. The fake SQS records what each
 * receive asked for; the first returns nothing, the next hangs until the poller stops it.
 */
function harness(initialFree: number) {
  let free = initialFree;
  const waiters: (() => void)[] = [];
  const asked: number[] = [];
  const sqs = {
    send: (cmd: { input: { MaxNumberOfMessages?: number } }, opts: { abortSignal: AbortSignal }) => {
      asked.push(cmd.input.MaxNumberOfMessages ?? 1);
      return new Promise((_resolve, reject) => opts.abortSignal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    },
  } as unknown as SQSClient;
  const poller = new Poller({
    sqs, log: pino({ level: 'silent' }), queueUrl: 'http://127.0.0.1/q', waitTimeSeconds: 20, visibilityTimeoutSeconds: 30, concurrency: 64,
    freeSlots: () => free,
    capacityChanged: () => new Promise((resolve) => waiters.push(resolve)),
    onMessages: () => undefined, onLateMessages: () => undefined, repairQueue: async () => undefined, onError: () => undefined,
  });
  for (let i = 0; i < 3; i += 1) poller.notePartCount(10);
  const freeUp = (n: number) => {
    free = n;
    waiters.splice(0).forEach((w) => w());
  };
  return { poller, asked, freeUp };
}

async function until(ok: () => boolean): Promise<void> {
  for (const giveUp = Date.now() + 5000; !ok(); ) {
    if (Date.now() > giveUp) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('Poller', () => {
  it('waits for slots to free up to a full receive, then asks for as many messages as fit', async () => {
    const { poller, asked, freeUp } = harness(2);
    // Without the wait, the receive would have gone out within start(), asking for one message.
    poller.start();
    expect(asked).toEqual([]);
    freeUp(64);
    await until(() => asked.length > 0);
    expect(asked).toEqual([6]);
    await poller.stop(0);
  });

  it('receives with what is free once the gathering time is over', async () => {
    const { poller, asked } = harness(12);
    const started = Date.now();
    poller.start();
    await until(() => asked.length > 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(GATHER_MS - 1);
    expect(asked).toEqual([1]);
    await poller.stop(0);
  });

  it('receives at once when a full receive is free already', async () => {
    const { poller, asked } = harness(64);
    poller.start();
    // Microtasks only: no timer (the gathering wait's) has had a chance to fire.
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual([6]);
    await poller.stop(0);
  });
});
