import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../../worker/task';

/** How many times slower this worker process runs `bench.straggle` (the speculation benchmark sets it on one worker). */
const slowdown = Number(process.env.BENCH_SLOWDOWN ?? 1);

/** `bench.straggle`: sleeps `ms` × the worker's slowdown, so one slow machine makes stragglers. */
export const straggle = defineTask({
  name: 'bench.straggle',
  description: 'Sleeps params.ms times the worker process\'s BENCH_SLOWDOWN (benchmarks).',
  params: z.object({ ms: z.number().int().positive() }).strict(),
  async run(part, ctx) {
    await sleep(ctx.params.ms * slowdown, undefined, { signal: ctx.signal });
    return { part: part.part, slowdown };
  },
});

export const tasks = [straggle];
