import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { describeAwsError, isAbortError } from './aws-errors';
import { backoffMs, delay } from './backoff';

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
  onError: (err: unknown) => void;
}

/** Long-polls the fleet input queue while there is a free slot; stops (aborting the in-flight receive) through one AbortController. */
export class Poller {
  private readonly abort = new AbortController();
  private readonly recent: number[] = [];
  private loop?: Promise<void>;
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

  /** Aborts the in-flight receive and waits for the loop to end. */
  async stop(): Promise<void> {
    this.abort.abort();
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
          { abortSignal: signal },
        );
        failures = 0;
        if (r.Messages?.length && !signal.aborted) o.onMessages(r.Messages, Date.now());
        else if (r.Messages?.length) o.log.info({ messages: r.Messages.length }, 'received messages while stopping; SQS will redeliver them after their visibility timeout');
      } catch (err) {
        if (signal.aborted || isAbortError(err)) break;
        const info = describeAwsError(err);
        const wait = backoffMs(failures++, { maxMs: 30_000 });
        o.log.error({ op: 'ReceiveMessage', code: info.code, status: info.status, retryable: info.retryable, retryInMs: wait, err: info.message }, 'receiving task messages failed; retrying');
        o.onError(err);
        await delay(wait, signal);
      }
    }
  }
}
