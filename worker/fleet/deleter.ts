import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { QueueBatcher } from './queue-batcher';
import { retryAws } from '../../common/sqs/retry';

/** Batching window of deletions, in ms: completions finishing together are deleted in one call. */
const DELETE_BATCH_DELAY_MS = 20;

/**
 * Deletes received messages with DeleteMessageBatch (10 per call). Never rejects: a deletion
 * that fails for good is logged, and SQS will deliver the message again (at-least-once).
 */
export class MessageDeleter {
  private readonly batcher: QueueBatcher<{ handle: string; done: (ok: boolean) => void }>;

  constructor(private readonly sqs: SQSClient, private readonly log: Logger) {
    this.batcher = new QueueBatcher({ maxItems: 10, maxDelayMs: DELETE_BATCH_DELAY_MS, send: (q, handles) => this.send(q, handles) });
  }

  /** Resolves true once deleted, false when SQS refused for good. */
  delete(queueUrl: string, receiptHandle: string): Promise<boolean> {
    return new Promise((done) => this.batcher.add(queueUrl, { handle: receiptHandle, done }));
  }

  /** Sends pending deletions now and waits for all; retries stop at `giveUpAt` (epoch ms) when given. */
  drain(giveUpAt?: number): Promise<void> {
    return this.batcher.drain(giveUpAt);
  }

  private send(queueUrl: string, handles: { handle: string; done: (ok: boolean) => void }[]): Promise<void> {
    return retryAws(
      'DeleteMessageBatch',
      () => this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: handles.map((h, i) => ({ Id: `d${i}`, ReceiptHandle: h.handle })) })),
      { log: this.log, giveUpAt: () => this.batcher.giveUpAt },
    ).then(
      (r) => {
        const failed = new Set((r.Failed ?? []).map((f) => f.Id));
        if (failed.size > 0) this.log.warn({ queueUrl, failed: r.Failed }, 'SQS refused some deletions; those messages will be delivered again');
        handles.forEach((h, i) => h.done(!failed.has(`d${i}`)));
      },
      () => handles.forEach((h) => h.done(false)),
    );
  }
}
