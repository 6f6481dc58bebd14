import type { Logger } from '../logger';
import { describeAwsError, isAbortError } from './errors';
import { delay, retryDelayMs, type BackoffOptions } from '../backoff';

export interface AwsRetryOptions extends BackoffOptions {
  log: Logger;
  /** Stops retrying (the last error is thrown) when aborted; also aborts the call itself. */
  signal?: AbortSignal;
  /** Epoch ms after which no retry starts; read before each retry, so it may be set later. Default: none. */
  giveUpAt?: () => number | undefined;
  /** Attempts in all, including the first. Default: unlimited. */
  maxAttempts?: number;
  /** Errors that must not be retried even when AWS calls them retryable (e.g. a deleted queue). */
  isFinal?: (err: unknown) => boolean;
}

/**
 * Calls `fn` until it succeeds, retrying retryable AWS errors with backoff and logging each
 * failure with its code, status and retryability. Non-retryable errors are thrown at once.
 */
export async function retryAws<T>(op: string, fn: (signal?: AbortSignal) => Promise<T>, options: AwsRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(options.signal);
    } catch (err) {
      if (options.signal?.aborted || isAbortError(err) || options.isFinal?.(err)) throw err;
      const info = describeAwsError(err);
      const wait = retryDelayMs(attempt - 1, options);
      const giveUpAt = options.giveUpAt?.();
      const last =
        !info.retryable ||
        (options.maxAttempts !== undefined && attempt >= options.maxAttempts) ||
        (giveUpAt !== undefined && Date.now() + wait > giveUpAt);
      options.log[last ? 'error' : 'warn'](
        { op, code: info.code, status: info.status, retryable: info.retryable, attempt, retryInMs: last ? undefined : wait, err: info.message },
        last ? 'AWS call failed' : 'AWS call failed; retrying',
      );
      if (last) throw err;
      if (!(await delay(wait, options.signal))) throw err;
    }
  }
}
