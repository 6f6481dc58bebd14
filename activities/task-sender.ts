import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES, PartTask, TaskMessage } from '../common/messages';

/** The parts of one message's worth, and the stage-wide fields every message repeats. */
export type MessageHeader = Omit<TaskMessage, 'parts' | 'sentAt'>;

const BATCH_ENTRIES = 10;
const PARALLEL_CALLS = 4;
const SEND_ATTEMPTS = 5;

/**
 * Packs parts into task messages (`partsPerMessage` each, never above the size limit): fewer
 * SQS calls per part is what lets the engine keep up with a hand-rolled loop. Pure.
 */
export function packMessages(header: MessageHeader, parts: PartTask[], partsPerMessage: number, sentAt: number): string[] {
  const bodies: string[] = [];
  let current: PartTask[] = [];
  const body = (ps: PartTask[]) => JSON.stringify({ ...header, sentAt, parts: ps } satisfies TaskMessage);
  for (const p of parts) {
    const next = [...current, p];
    if (current.length > 0 && (next.length > partsPerMessage || Buffer.byteLength(body(next)) > MAX_MESSAGE_BYTES)) {
      bodies.push(body(current));
      current = [p];
    } else {
      current = next;
    }
  }
  if (current.length > 0) bodies.push(body(current));
  for (const b of bodies) {
    if (Buffer.byteLength(b) > MAX_MESSAGE_BYTES) throw new Error(`a task message of ${Buffer.byteLength(b)} bytes exceeds ${MAX_MESSAGE_BYTES}: too many inputs inline for one part`);
  }
  return bodies;
}

/** Sends bodies with SendMessageBatch, 10 per call, a few calls at once; retries entries SQS refused. */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: string[], signal?: AbortSignal): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += BATCH_ENTRIES) batches.push(bodies.slice(i, i + BATCH_ENTRIES));
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      let pending = batch.map((b, i) => ({ Id: String(i), MessageBody: b }));
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }), { abortSignal: signal });
        const failed = new Set((r.Failed ?? []).map((f) => f.Id));
        if (failed.size > 0 && attempt >= SEND_ATTEMPTS) {
          throw new Error(`SQS refused ${failed.size} task messages after ${attempt} attempts: ${(r.Failed ?? []).map((f) => f.Message ?? f.Code).join('; ')}`);
        }
        pending = pending.filter((e) => failed.has(e.Id));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CALLS, batches.length) }, lane));
}
