import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { retryAws } from './retry';

/** Batching window of deletions, in ms: completions finishing together are deleted in one call. */
const DELETE_BATCH_DELAY_MS = 20;

/**
 * Deletes received messages with DeleteMessageBatch (10 per call). Never rejects: a deletion
 * that fails for good is logged, and SQS will deliver the message again (at-least-once).
 */
export class MessageDeleter {
  private readonly pending = new Map<string, { handles: { handle: string; done: (ok: boolean) => void }[]; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private giveUpAt: number | undefined;

  constructor(private readonly sqs: SQSClient, private readonly log: Logger) {}

  /** Resolves true once deleted, false when SQS refused for good. */
  delete(queueUrl: string, receiptHandle: string): Promise<boolean> {
    return new Promise((done) => {
      let entry = this.pending.get(queueUrl);
      if (!entry) {
        entry = { handles: [], timer: setTimeout(() => this.flush(queueUrl), DELETE_BATCH_DELAY_MS) };
        this.pending.set(queueUrl, entry);
      }
      entry.handles.push({ handle: receiptHandle, done });
      if (entry.handles.length >= 10) this.flush(queueUrl);
    });
  }

  /** Sends pending deletions now and waits for all; retries stop at `giveUpAt` (epoch ms) when given. */
  async drain(giveUpAt?: number): Promise<void> {
    if (giveUpAt !== undefined) this.giveUpAt = giveUpAt;
    for (const queueUrl of [...this.pending.keys()]) this.flush(queueUrl);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private flush(queueUrl: string): void {
    const entry = this.pending.get(queueUrl);
    if (!entry) return;
    this.pending.delete(queueUrl);
    clearTimeout(entry.timer);
    const handles = entry.handles;
    const p = retryAws(
      'DeleteMessageBatch',
      () => this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: handles.map((h, i) => ({ Id: `d${i}`, ReceiptHandle: h.handle })) })),
      { log: this.log, giveUpAt: () => this.giveUpAt },
    ).then(
      (r) => {
        const failed = new Set((r.Failed ?? []).map((f) => f.Id));
        if (failed.size > 0) this.log.warn({ queueUrl, failed: r.Failed }, 'SQS refused some deletions; those messages will be delivered again');
        handles.forEach((h, i) => h.done(!failed.has(`d${i}`)));
      },
      () => handles.forEach((h) => h.done(false)),
    ).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
