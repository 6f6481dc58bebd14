import { setTimeout as sleep } from 'node:timers/promises';

/** Delays between retries of AWS calls: exponential with "equal jitter", in ms. */
export interface BackoffOptions {
  /** Delay of the first retry before jitter, in ms. Default: 200. */
  baseMs?: number;
  /** Upper bound of any delay, in ms. Default: 20000. */
  maxMs?: number;
}

/**
 * The delay before retry number `retry` (0 for the first retry): half of min(max, base·2^retry)
 * fixed plus up to the same again at random, so clients that failed together spread out but
 * never retry at once.
 */
export function retryDelayMs(retry: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 20_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(0, retry), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms`, or at once (false) when `signal` aborts; true when the full time passed. */
export async function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch (err) {
    if (signal?.aborted) return false; // node:timers/promises rejects with an AbortError
    throw err;
  }
}
