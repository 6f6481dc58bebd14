import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { parseBody, WorkerEvent } from '../../common/messages';
import type { Queryable } from '../../store/db';
import { upsertWorkerEvents } from '../../store/workers';

export interface DrainOptions {
  sqs: SQSClient;
  db: Queryable;
  /** The fleet's events queue. */
  queueUrl: string;
  log: Logger;
  /** Stop after this many messages in one call (the rest wait for the next tick). Default: 2000. */
  maxMessages?: number;
  /** Messages written to Postgres per statement. Default: 200. */
  batchSize?: number;
}

/**
 * Moves fleet worker events from SQS into the `workers` table: receive, upsert in batches, then
 * delete. A crash between upsert and delete redelivers events, which the upsert absorbs (counters
 * only grow, the newest gauge wins). Returns how many events it applied.
 */
export async function drainWorkerEvents(o: DrainOptions): Promise<number> {
  const max = o.maxMessages ?? 2000;
  const batchSize = o.batchSize ?? 200;
  let applied = 0;
  let received = 0;
  let events: WorkerEvent[] = [];
  let handles: string[] = [];

  const flush = async () => {
    if (events.length > 0) await upsertWorkerEvents(o.db, events);
    for (let i = 0; i < handles.length; i += 10) {
      const entries = handles.slice(i, i + 10).map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle }));
      const r = await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: entries }));
      // A failed delete only means the event comes again; the upsert makes that harmless.
      if (r.Failed?.length) o.log.debug({ failed: r.Failed.length }, 'some worker events were not deleted; they will be applied again');
    }
    applied += events.length;
    events = [];
    handles = [];
  };

  while (received < max) {
    const r = await o.sqs.send(new ReceiveMessageCommand({ QueueUrl: o.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    const messages = r.Messages ?? [];
    if (messages.length === 0) break;
    received += messages.length;
    for (const m of messages) {
      const parsed = parseBody(WorkerEvent, m.Body);
      if (parsed.ok) events.push(parsed.value);
      else o.log.warn({ messageId: m.MessageId, reason: parsed.reason }, 'dropping a malformed worker event');
      if (m.ReceiptHandle) handles.push(m.ReceiptHandle);
    }
    if (handles.length >= batchSize) await flush();
  }
  await flush();
  return applied;
}
