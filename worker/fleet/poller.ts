import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { describeAwsError, isAbortError, isQueueGone } from '../../common/sqs/errors';
import { delay, retryDelayMs } from '../../common/backoff';

/** How many recent messages' part counts inform how many messages to ask for. */
const SIZE_WINDOW = 20;

/**
 * How many messages to receive with `freeSlots` free: as many as fit when each is as large as the
 * largest recent one (1–10). Holding at most concurrency + one message's worth of parts.
 */
export function messagesToReceive(freeSlots: number, recentPartCounts: readonly number[]): number {
  const largest = Math.max(1, ...recentPartCounts);
  return Math.min(10, Math.max(1, Math.floor(freeSlots / largest)));
}

export interface PollerOptions {
  sqs: SQSClient;
  log: Logger;
  queueUrl: string;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  /** Free slots now (parts the worker may still take on). */
  freeSlots: () => number;
  /** Resolves when `freeSlots()` may have grown. */
  capacityChanged: () => Promise<void>;
  onMessages: (messages: Message[], receivedAt: number) => void;
  /** Messages a receive brought back after stop() began: the worker hands them back at once. */
  onLateMessages: (messages: Message[]) => void;
  /** The input queue is missing (SQS lost it): re-create the fleet's queues, then polling goes on. */
  repairQueue: () => Promise<void>;
  onError: (err: unknown) => void;
}

/** How long past its wait time a receive may take before it is abandoned, in ms. */
const RECEIVE_MARGIN_MS = 5000;

/**
 * Long-polls the fleet input queue while there is a free slot. `stop(maxWaitMs)` lets the receive
 * in flight finish, for up to `maxWaitMs`, and hands back what it brings: a receive abandoned by
 * the client stays open on the server, which would take a message handed back meanwhile and hide
 * it for a whole visibility timeout. Past `maxWaitMs` (a stop must fit its grace period) the
 * receive is abandoned after all.
 */
export class Poller {
  private readonly abort = new AbortController();
  private readonly recent: number[] = [];
  private loop?: Promise<void>;
  /** Aborts the receive in flight (stop() past its bound). */
  private receiving?: AbortController;
  private readonly aborted = new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Records how many parts a received message held (sizes the next receive). */
  notePartCount(parts: number): void {
    this.recent.push(parts);
    if (this.recent.length > SIZE_WINDOW) this.recent.shift();
  }

  /** Ends the loop after the receive in flight (if any) returns, or after `maxWaitMs` (then it is aborted); waits for it. */
  async stop(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.abort.abort();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    const bounded = Number.isFinite(maxWaitMs) ? new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs))) : new Promise<void>(() => undefined);
    await Promise.race([this.loop, bounded]);
    clearTimeout(timer);
    this.receiving?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const o = this.options;
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (o.freeSlots() < 1) {
        await Promise.race([o.capacityChanged(), this.aborted]);
        continue;
      }
      try {
        const r = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: messagesToReceive(o.freeSlots(), this.recent),
            WaitTimeSeconds: o.waitTimeSeconds,
            VisibilityTimeout: o.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          // A long poll that never answers (SQS servers have been seen to hang one whose queue was
          // deleted meanwhile) is abandoned after its wait plus a margin, and polling goes on.
          // Not aborted by stop() unless it outlasts stop's bound (see the class comment).
          { abortSignal: AbortSignal.any([(this.receiving = new AbortController()).signal, AbortSignal.timeout(o.waitTimeSeconds * 1000 + RECEIVE_MARGIN_MS)]) },
        );
        failures = 0;
        if (r.Messages?.length && !signal.aborted) o.onMessages(r.Messages, Date.now());
        else if (r.Messages?.length) {
          o.log.info({ messages: r.Messages.length }, 'received messages while stopping; handing them back');
          o.onLateMessages(r.Messages);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isAbortError(err)) {
          o.log.warn({ queueUrl: o.queueUrl, waitTimeSeconds: o.waitTimeSeconds }, 'a receive did not answer in time; polling again');
          continue;
        }
        if (isQueueGone(err)) {
          o.log.warn({ queueUrl: o.queueUrl }, 'the fleet input queue is missing; re-creating the fleet queues');
          const repaired = await o.repairQueue().then(() => true, (e: unknown) => (o.onError(e), false));
          if (repaired) continue;
        }
        const info = describeAwsError(err);
        const wait = retryDelayMs(failures++, { maxMs: 30_000 });
        o.log.error({ op: 'ReceiveMessage', code: info.code, status: info.status, retryable: info.retryable, retryInMs: wait, err: info.message }, 'receiving task messages failed; retrying');
        o.onError(err);
        await delay(wait, signal);
      }
    }
  }
}
