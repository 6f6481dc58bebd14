import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../../worker/task';

const SkewedParams = z
  .object({
    /** Shortest run time (the Pareto distribution's scale), in ms. */
    minMs: z.number().positive(),
    /** Pareto shape: smaller is a longer tail (1.1–1.5 is typical of real task run times). */
    alpha: z.number().positive(),
    /** Longest run time, in ms. */
    maxMs: z.number().positive(),
    /** Draws a different run time per part for each seed (give each stage its own). */
    seed: z.number().int().nonnegative(),
  })
  .strict();

/** A uniform number in (0, 1] from (seed, part): the same part sleeps as long on every run. */
function uniform(seed: number, part: number): number {
  let h = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(part + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 0x100000000 + 1 / 0x100000000;
}

/** The run time of `part`: a Pareto draw, `minMs · u^(−1/alpha)`, capped at `maxMs`. */
export function skewedMs(p: z.infer<typeof SkewedParams>, part: number): number {
  return Math.min(p.maxMs, p.minMs * uniform(p.seed, part) ** (-1 / p.alpha));
}

/** `bench.skewed`: sleeps a long-tailed, per-part run time (the stream-against-barrier benchmark). */
export const skewed = defineTask({
  name: 'bench.skewed',
  description: 'Sleeps a Pareto-distributed run time per part (benchmarks).',
  params: SkewedParams,
  async run(part, ctx) {
    const ms = skewedMs(ctx.params, part.part);
    await sleep(ms, undefined, { signal: ctx.signal });
    return { part: part.part, sleptMs: Math.round(ms) };
  },
});

export const tasks = [skewed];
