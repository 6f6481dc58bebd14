import type { RetryPolicy } from '../pipeline/types';

/**
 * The in-memory view of a stage run's open parts: those sent and awaiting a completion, and
 * those waiting out a retry backoff. It mirrors task_runs (rebuilt from it after a restart)
 * so the stage loop need not query Postgres for every decision. Pure: unit-tested directly.
 */
export class PartWindow {
  /** `startSeenAt`: when the loop learnt the part started, on its own clock (0: before a restart). */
  private readonly inFlight = new Map<number, { attempt: number; deadlineAt: number; sentAt: number; started: boolean; startSeenAt: number }>();
  private readonly waiting = new Map<number, { attempt: number; retryAt: number }>();

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  get empty(): boolean {
    return this.inFlight.size === 0 && this.waiting.size === 0;
  }

  /** A part sent (or found sent after a restart); `started` when a worker said it began it. */
  sent(part: number, attempt: number, deadlineAt: number, at: { sentAt?: number; started?: boolean } = {}): void {
    this.waiting.delete(part);
    this.inFlight.set(part, { attempt, deadlineAt, sentAt: at.sentAt ?? 0, started: at.started ?? false, startSeenAt: 0 });
  }

  /**
   * A worker started the part's outstanding attempt: its deadline now counts from there. False for
   * another attempt. `seenAt`: when the loop learnt it (its own clock).
   */
  started(part: number, attempt: number, deadlineAt: number, seenAt = 0): boolean {
    const s = this.inFlight.get(part);
    if (!s || s.attempt !== attempt) return false;
    s.started = true;
    s.deadlineAt = deadlineAt;
    s.startSeenAt = seenAt;
    return true;
  }

  /** The parts (outstanding attempts) the loop learnt had started before `t` and that are still running. */
  startedBefore(t: number): { part: number; attempt: number }[] {
    const out: { part: number; attempt: number }[] = [];
    for (const [part, s] of this.inFlight) if (s.started && s.startSeenAt > 0 && s.startSeenAt < t) out.push({ part, attempt: s.attempt });
    return out;
  }

  /** Parts running (started, no completion yet) that the loop learnt had started before `t`. */
  runningSince(t: number): number {
    let n = 0;
    for (const s of this.inFlight.values()) if (s.started && s.startSeenAt < t) n += 1;
    return n;
  }

  /** Parts in flight that no worker has started yet, sent before `t` (their messages were lost if the queue was made again after). */
  unstartedSentBefore(t: number): { part: number; attempt: number }[] {
    const out: { part: number; attempt: number }[] = [];
    for (const [part, s] of this.inFlight) if (!s.started && s.sentAt < t) out.push({ part, attempt: s.attempt });
    return out;
  }

  /** Parts in flight a worker has started. */
  get runningCount(): number {
    let n = 0;
    for (const s of this.inFlight.values()) if (s.started) n += 1;
    return n;
  }

  waitRetry(part: number, attempt: number, retryAt: number): void {
    this.inFlight.delete(part);
    this.waiting.set(part, { attempt, retryAt });
  }

  close(part: number): void {
    this.inFlight.delete(part);
    this.waiting.delete(part);
  }

  /** The outstanding attempt of a part in flight, if any. */
  attemptOf(part: number): number | undefined {
    return this.inFlight.get(part)?.attempt;
  }

  /** Every part in flight, with its outstanding attempt. */
  inFlightParts(): { part: number; attempt: number }[] {
    return [...this.inFlight].map(([part, s]) => ({ part, attempt: s.attempt }));
  }

  /** Parts in flight whose completion is overdue, and whether a worker had started them. */
  overdue(now: number): { part: number; attempt: number; started: boolean }[] {
    const out: { part: number; attempt: number; started: boolean }[] = [];
    for (const [part, s] of this.inFlight) if (s.deadlineAt <= now) out.push({ part, attempt: s.attempt, started: s.started });
    return out;
  }

  /** Parts whose backoff has passed, oldest first, at most `limit`; each with the attempt to send next. */
  dueRetries(now: number, limit: number): { part: number; attempt: number }[] {
    const due = [...this.waiting].filter(([, s]) => s.retryAt <= now).sort((a, b) => a[1].retryAt - b[1].retryAt);
    return due.slice(0, limit).map(([part, s]) => ({ part, attempt: s.attempt + 1 }));
  }

  /** Epoch ms of the earliest pending retry, if any. */
  nextRetryAt(): number | undefined {
    let min: number | undefined;
    for (const s of this.waiting.values()) if (min === undefined || s.retryAt < min) min = s.retryAt;
    return min;
  }
}

/** Delay before attempt `attempt + 1` after attempt `attempt` failed: exponential, capped. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.backoffMs * 2 ** Math.max(0, attempt - 1), policy.maxBackoffMs);
}

/** Whether a failed attempt is retried: the error allows it and attempts remain. */
export function shouldRetry(policy: RetryPolicy, attempt: number, retryable: boolean): boolean {
  return retryable && attempt < policy.attempts;
}

/** Whether `failed` finally failed parts out of `total` are within the stage's tolerance. */
export function withinTolerance(tolerate: { failedParts?: number; failedPercent?: number }, failed: number, total: number): boolean {
  if (failed === 0) return true;
  if (tolerate.failedParts !== undefined && failed <= tolerate.failedParts) return true;
  if (tolerate.failedPercent !== undefined && total > 0 && (failed / total) * 100 <= tolerate.failedPercent) return true;
  return false;
}

/**
 * Window slots a stage may take now. A job's stages share its window: a stage takes what is
 * free, but while other stages wait for slots it stays within its fair share, so a stream stage
 * is never starved by its busy upstream (nor the other way round).
 */
export function slotsFor(concurrency: number, jobInFlight: number, mine: number, othersWaiting: number): number {
  const free = concurrency - jobInFlight;
  if (othersWaiting === 0) return Math.max(0, free);
  const share = Math.ceil(concurrency / (othersWaiting + 1));
  return Math.max(0, Math.min(free, share - mine));
}

/** How many retries are due now (their backoff has passed). */
export function dueCount(window: PartWindow, now: number): number {
  return window.dueRetries(now, Number.MAX_SAFE_INTEGER).length;
}
