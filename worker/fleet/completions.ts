import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { MAX_MESSAGE_BYTES, type CompletionMessage, type PartResult } from '../../common/messages';
import { isQueueGone } from '../../common/sqs/errors';
import { retryAws } from '../../common/sqs/retry';
import { QueueBatcher } from './queue-batcher';
import { MAX_BATCH_ENTRIES, packBatches, packJsonArrays } from '../../common/sqs/batching';

/** Most results packed into one completion message. */
export const MAX_RESULTS_PER_COMPLETION = 100;

/** One packed completion message and the results it carries. */
export interface PackedCompletion {
  body: string;
  bytes: number;
  results: PartResult[];
}

/**
 * Packs results of one (job, stage) into as few CompletionMessage bodies as the limits allow,
 * keeping their order. A result too large to share a message goes alone (it was size-checked
 * when the part finished, so it fits).
 */
export function packCompletions(
  header: Omit<CompletionMessage, 'results'>,
  results: readonly PartResult[],
  limits: { maxResults?: number; maxBytes?: number } = {},
): PackedCompletion[] {
  return packJsonArrays(header, 'results', results, { maxItems: limits.maxResults ?? MAX_RESULTS_PER_COMPLETION, maxBytes: limits.maxBytes ?? MAX_MESSAGE_BYTES }).map(
    ({ body, bytes, items }) => ({ body, bytes, results: items }),
  );
}

/** What became of a result: posted, dropped because its stage run is over (queue deleted), or not deliverable. */
export type SendOutcome = 'sent' | 'gone' | 'failed';

/** The stage run a result belongs to. */
export interface ResultStage {
  jobId: string;
  stageId: string;
  /** Bucket of the job's data (where its stage-closed markers are). */
  bucket: string;
}

/**
 * What a missing completion queue means: the stage run is over (`closed`: drop its results), or
 * SQS lost the queue and it was made again (`recreated`: send again).
 */
export type MissingQueueVerdict = 'closed' | 'recreated';

interface Pending extends ResultStage {
  result: PartResult;
  settle: (outcome: SendOutcome) => void;
}

/** Times a batch is sent again after its queue was re-created, before its results are left to redelivery. */
const QUEUE_REPAIRS = 2;

export interface CompletionSenderOptions {
  sqs: SQSClient;
  workerId: string;
  log: Logger;
  /** How long a result may wait for others to share its message, in ms. */
  maxDelayMs: number;
  /** Decides what a missing completion queue means (and re-creates it when SQS lost it). */
  onQueueMissing: (queueUrl: string, stage: ResultStage) => Promise<MissingQueueVerdict>;
}

/**
 * Posts part results to completion queues, batched: results for one queue that arrive within
 * `maxDelayMs` share messages (packCompletions) and calls (packBatches). Never rejects: each
 * result's promise tells its outcome.
 */
export class CompletionSender {
  private readonly batcher: QueueBatcher<Pending>;

  constructor(private readonly options: CompletionSenderOptions) {
    this.batcher = new QueueBatcher({ maxItems: MAX_RESULTS_PER_COMPLETION * MAX_BATCH_ENTRIES, maxDelayMs: options.maxDelayMs, send: (q, items) => this.send(q, items) });
  }

  /** Queues a result for `queueUrl`; resolves once it has been posted (or could not be). */
  add(queueUrl: string, stage: ResultStage, result: PartResult): Promise<SendOutcome> {
    return new Promise((settle) => this.batcher.add(queueUrl, { ...stage, result, settle }));
  }

  /** Sends everything queued now and waits for every send; retries stop at `giveUpAt` (epoch ms) when given. */
  drain(giveUpAt?: number): Promise<void> {
    return this.batcher.drain(giveUpAt);
  }

  private async send(queueUrl: string, items: Pending[]): Promise<void> {
    const groups = new Map<string, Pending[]>();
    for (const item of items) {
      const key = JSON.stringify([item.jobId, item.stageId]);
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    const messages: { body: string; bytes: number; items: Pending[] }[] = [];
    for (const group of groups.values()) {
      const header = { v: 1 as const, type: 'completion' as const, jobId: group[0].jobId, stageId: group[0].stageId, workerId: this.options.workerId };
      let offset = 0;
      for (const packed of packCompletions(header, group.map((g) => g.result))) {
        messages.push({ body: packed.body, bytes: packed.bytes, items: group.slice(offset, offset + packed.results.length) });
        offset += packed.results.length;
      }
    }
    const batches = packBatches(messages.map((m) => m.bytes));
    await Promise.all(batches.map((batch) => this.sendBatch(queueUrl, batch.map((i) => messages[i]))));
  }

  private async sendBatch(queueUrl: string, messages: { body: string; items: Pending[] }[]): Promise<void> {
    const settle = (ms: typeof messages, outcome: SendOutcome) => ms.forEach((m) => m.items.forEach((i) => i.settle(outcome)));
    let left = messages;
    for (let repairs = 0; ; repairs += 1) {
      try {
        await retryAws(
          'SendMessageBatch(completions)',
          async () => {
            const entries: SendMessageBatchRequestEntry[] = left.map((m, i) => ({ Id: `c${i}`, MessageBody: m.body }));
            const r = await this.options.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
            const failed = new Map((r.Failed ?? []).map((f) => [f.Id, f]));
            settle(left.filter((_, i) => !failed.has(`c${i}`)), 'sent');
            const permanent = left.filter((_, i) => failed.get(`c${i}`)?.SenderFault);
            if (permanent.length > 0) {
              this.options.log.error({ queueUrl, failed: r.Failed?.filter((f) => f.SenderFault) }, 'SQS refused completion messages; their task messages will be redelivered');
              settle(permanent, 'failed');
            }
            left = left.filter((_, i) => failed.has(`c${i}`) && !failed.get(`c${i}`)?.SenderFault);
            if (left.length > 0) throw Object.assign(new Error(`${left.length} completion message(s) not accepted by SQS`), { name: 'BatchEntryFailed', $retryable: {} });
          },
          { log: this.options.log, giveUpAt: () => this.batcher.giveUpAt, isFinal: isQueueGone },
        );
        return;
      } catch (err) {
        if (!isQueueGone(err) || repairs >= QUEUE_REPAIRS) {
          settle(left, 'failed');
          return;
        }
        // A missing queue is a fault to repair, unless the stage run is over.
        const verdict = await this.options.onQueueMissing(queueUrl, left[0].items[0]).catch((e: unknown) => {
          this.options.log.warn({ queueUrl, err: (e as Error).message }, 'could not tell whether a missing completion queue was deleted or lost');
          return undefined;
        });
        if (verdict !== 'recreated') {
          settle(left, verdict === 'closed' ? 'gone' : 'failed');
          return;
        }
      }
    }
  }
}
