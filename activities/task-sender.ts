import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES, PartTask, TaskMessage } from '../common/messages';
import { eachLimited } from '../common/concurrency';
import { packBatches, packJsonArrays } from '../common/sqs/batching';

/** The parts of one message's worth, and the stage-wide fields every message repeats. */
export type MessageHeader = Omit<TaskMessage, 'parts' | 'sentAt'>;

const PARALLEL_CALLS = 4;
const SEND_ATTEMPTS = 5;

/** Task messages for a set of parts, and the parts no message can carry (each over the limit on its own). */
export interface PackedTasks {
  bodies: string[];
  tooLarge: { part: number; attempt: number; bytes: number }[];
}

/**
 * Packs parts into task messages (`partsPerMessage` each, never above the size limit): fewer
 * SQS calls per part is what lets the engine keep up with a hand-rolled loop. A part whose
 * message alone is over the limit is returned in `tooLarge`, for the caller to fail. Pure.
 */
export function packMessages(header: MessageHeader, parts: PartTask[], partsPerMessage: number, sentAt: number): PackedTasks {
  const tooLarge: PackedTasks['tooLarge'] = [];
  const packed = packJsonArrays({ ...header, sentAt } satisfies Omit<TaskMessage, 'parts'>, 'parts', parts, {
    maxItems: partsPerMessage,
    maxBytes: MAX_MESSAGE_BYTES,
    onTooLarge: (p, bytes) => tooLarge.push({ part: p.part, attempt: p.attempt, bytes }),
  });
  return { bodies: packed.map((m) => m.body), tooLarge };
}

/**
 * Sends bodies with SendMessageBatch, a few calls at once, each call within both of SQS's limits
 * (10 entries, 256 KiB); retries entries SQS refused.
 */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: string[], signal?: AbortSignal): Promise<void> {
  const batches = packBatches(bodies.map((b) => Buffer.byteLength(b))).map((indexes) => indexes.map((i) => bodies[i]));
  await eachLimited(batches, PARALLEL_CALLS, async (batch) => {
    let pending = batch.map((b, i) => ({ Id: String(i), MessageBody: b }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }), { abortSignal: signal });
      const failed = new Set((r.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt >= SEND_ATTEMPTS) {
        throw new Error(`SQS refused ${failed.size} task messages after ${attempt} attempts: ${(r.Failed ?? []).map((f) => f.Message ?? f.Code).join('; ')}`);
      }
      pending = pending.filter((e) => failed.has(e.Id));
    }
  });
}
