import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { retryAws } from '../../common/sqs/retry';

/** A received message, as far as its visibility is concerned. */
export interface HeldReceipt {
  queueUrl: string;
  receiptHandle: string;
}

/** Sets the visibility timeout of messages, 10 per ChangeMessageVisibilityBatch call. */
export async function changeVisibility(sqs: SQSClient, log: Logger, receipts: readonly HeldReceipt[], timeoutSeconds: number, giveUpAt?: number): Promise<void> {
  const byQueue = new Map<string, string[]>();
  for (const r of receipts) {
    const handles = byQueue.get(r.queueUrl);
    if (handles) handles.push(r.receiptHandle);
    else byQueue.set(r.queueUrl, [r.receiptHandle]);
  }
  const calls: Promise<void>[] = [];
  for (const [queueUrl, handles] of byQueue) {
    for (let i = 0; i < handles.length; i += 10) {
      const entries = handles.slice(i, i + 10).map((h, j) => ({ Id: `v${j}`, ReceiptHandle: h, VisibilityTimeout: timeoutSeconds }));
      calls.push(
        retryAws('ChangeMessageVisibilityBatch', () => sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries })), {
          log,
          maxAttempts: 3,
          giveUpAt: () => giveUpAt,
        }).then(
          (r) => {
            // Typically the message was deleted meanwhile, or redelivered to someone else after a long stall.
            if (r.Failed?.length) log.debug({ queueUrl, failed: r.Failed }, 'some visibility changes were refused');
          },
          () => undefined, // logged by retryAws; the next round tries again
        ),
      );
    }
  }
  await Promise.all(calls);
}

/**
 * Keeps held messages invisible while their parts wait or run: every third of the visibility
 * timeout, pushes each held message's visibility out to the full timeout again.
 */
export class VisibilityKeeper {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly log: Logger,
    private readonly timeoutSeconds: number,
    private readonly held: () => HeldReceipt[],
  ) {}

  start(): void {
    const everyMs = Math.max(1000, (this.timeoutSeconds * 1000) / 3);
    this.timer ??= setInterval(() => {
      if (this.round) return; // the previous round is still retrying
      const receipts = this.held();
      if (receipts.length === 0) return;
      this.round = changeVisibility(this.sqs, this.log, receipts, this.timeoutSeconds).finally(() => (this.round = undefined));
    }, everyMs);
    this.timer.unref();
  }

  /** Resolves once the extension round now on its way (if any) has finished. */
  async settled(): Promise<void> {
    await this.round;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }
}
