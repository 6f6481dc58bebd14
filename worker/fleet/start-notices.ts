import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { MAX_MESSAGE_BYTES, type StartedMessage, type StartedPart } from '../../common/messages';
import { MAX_BATCH_ENTRIES, packBatches, packJsonArrays } from '../../common/sqs/batching';
import { QueueBatcher } from './queue-batcher';

/** Start notices per message: each is about 60 bytes, so a message stays far below SQS's limit. */
const PARTS_PER_NOTICE = 500;

interface Pending {
  jobId: string;
  stageId: string;
  part: StartedPart;
}

/**
 * Tells the orchestrator which parts a worker has started, batched per completion queue like the
 * results: a part's deadline counts from its start, not from when it was sent, and its queue
 * wait ends there. Best effort: a notice that cannot be posted only leaves the part on the
 * longer deadline of an unstarted one; its result still counts.
 */
export class StartNotifier {
  private readonly batcher: QueueBatcher<Pending>;

  constructor(private readonly o: { sqs: SQSClient; log: Logger; workerId: string; maxDelayMs: number }) {
    this.batcher = new QueueBatcher({ maxItems: PARTS_PER_NOTICE * MAX_BATCH_ENTRIES, maxDelayMs: o.maxDelayMs, send: (q, items) => this.send(q, items) });
  }

  /** Queues a notice that `part` started, for the completion queue of its stage run. */
  started(queueUrl: string, jobId: string, stageId: string, part: StartedPart): void {
    this.batcher.add(queueUrl, { jobId, stageId, part });
  }

  /**
   * The part finished before its notice went out: its result says when it started, so the notice
   * is not sent (for short parts, most are not: one SQS message and one Postgres update a part fewer).
   */
  finished(queueUrl: string, part: { part: number; attempt: number }): void {
    this.batcher.withdraw(queueUrl, (i) => i.part.part === part.part && i.part.attempt === part.attempt);
  }

  /** Sends what is queued; waits for it (no retry past `giveUpAt`). */
  drain(giveUpAt?: number): Promise<void> {
    return this.batcher.drain(giveUpAt);
  }

  private async send(queueUrl: string, items: Pending[]): Promise<void> {
    const byStage = new Map<string, Pending[]>();
    for (const item of items) {
      const key = `${item.jobId}\u0000${item.stageId}`;
      byStage.set(key, [...(byStage.get(key) ?? []), item]);
    }
    // Packed like completions: within SQS's message size, then within both SendMessageBatch limits.
    const bodies = [...byStage.values()].flatMap((group) => {
      const header: Omit<StartedMessage, 'parts'> = { v: 1, type: 'started', jobId: group[0].jobId, stageId: group[0].stageId, workerId: this.o.workerId };
      return packJsonArrays(header, 'parts', group.map((g) => g.part), { maxItems: PARTS_PER_NOTICE, maxBytes: MAX_MESSAGE_BYTES });
    });
    for (const batch of packBatches(bodies.map((b) => b.bytes))) {
      const entries = batch.map((i, j) => ({ Id: `s${j}`, MessageBody: bodies[i].body }));
      await this.o.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })).catch((err: unknown) => {
        this.o.log.debug({ queueUrl, err: (err as Error).message }, 'start notices not posted; those parts keep the deadline of unstarted ones');
      });
    }
  }
}
