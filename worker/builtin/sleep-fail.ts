import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PermanentTaskError } from '../../common/errors';
import { defineTask } from '../task';

const SleepFailParams = z
  .object({
    /** Sleep this long (ms) before deciding the outcome. */
    sleepMs: z.number().int().nonnegative().optional(),
    /** Fail attempts 1..failTimes with a retryable error, then succeed. */
    failTimes: z.number().int().nonnegative().optional(),
    failAlways: z.boolean().optional(),
    /** Make failAlways and failParts failures permanent (not retryable). */
    permanent: z.boolean().optional(),
    /** Sleep until the part is aborted (timeout, cancel, shutdown). */
    hang: z.boolean().optional(),
    /** Parts that always fail. */
    failParts: z.array(z.number().int().nonnegative()).optional(),
    /** Parts whose first attempt kills the worker process (exit 137) on its first delivery — for kill tests. */
    crashParts: z.array(z.number().int().nonnegative()).optional(),
  })
  .strict()
  .default({});

/** A configurable misbehaving task for tests and benchmarks: sleeps, fails, hangs or crashes on demand. */
export const sleepFail = defineTask({
  name: 'test.sleep-fail',
  description: 'Sleeps, fails, hangs or crashes the worker on demand (tests and benchmarks).',
  params: SleepFailParams,
  async run(part, ctx) {
    const p = ctx.params;
    // Only the first delivery crashes, so SQS's redelivery of the same attempt then succeeds.
    if (p.crashParts?.includes(part.part) && part.attempt === 1 && ctx.receiveCount <= 1) {
      ctx.log.warn('crashing the worker on purpose (crashParts)');
      process.exit(137);
    }
    // Hanging and sleeping end at once when the part is aborted (the runner reports the signal's reason).
    if (p.hang && !ctx.signal.aborted) await once(ctx.signal, 'abort');
    ctx.signal.throwIfAborted();
    if (p.sleepMs) await sleep(p.sleepMs, undefined, { signal: ctx.signal });
    const fail = (why: string): never => {
      throw p.permanent ? new PermanentTaskError(why) : new Error(why);
    };
    if (p.failParts?.includes(part.part)) fail(`part ${part.part} is in failParts`);
    if (p.failAlways) fail('failAlways is set');
    if (p.failTimes !== undefined && part.attempt <= p.failTimes) {
      throw new Error(`failing attempt ${part.attempt} of the first ${p.failTimes} on purpose (failTimes)`);
    }
    return { part: part.part, attempt: part.attempt, sleptMs: p.sleepMs ?? 0 };
  },
});
