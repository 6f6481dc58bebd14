/**
 * Bounded concurrency, the one way batchgrid runs "n at a time": instead of hand-made pools of
 * `Promise.all(Array.from({ length: n }, lane))`. Plain promises, no Node API (safe anywhere).
 */

/**
 * Runs `lane(0)`, …, `lane(count - 1)` at once and resolves with their results in order; rejects
 * as soon as one rejects (like Promise.all). For loops that pull their own work ("receive until
 * done") rather than walk a list.
 */
export function runLanes<R>(count: number, lane: (index: number) => Promise<R>): Promise<R[]> {
  return Promise.all(Array.from({ length: Math.max(0, count) }, (_, i) => lane(i)));
}

/**
 * Calls `fn` on every item, at most `limit` at a time, and resolves with the results in item
 * order. After a failure no further item starts; it rejects with the first error once the calls
 * already running have settled (so nothing runs on behind the caller's back).
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!(limit >= 1)) throw new RangeError(`limit must be at least 1 (got ${limit})`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  await runLanes(Math.min(limit, items.length), async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  });
  if (failure) throw failure.err;
  return results;
}

/** `mapLimited` for calls whose results do not matter. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  await mapLimited(items, limit, fn);
}
