import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import { MAX_MESSAGE_BYTES, type DeadLetter } from '../../common/messages';
import { retryAws } from '../../common/sqs/retry';

/** The JSON body of a dead letter; the original body is cut (and says so) when the whole would exceed MAX_MESSAGE_BYTES. */
export function deadLetterBody(letter: DeadLetter): string {
  const body = JSON.stringify(letter);
  if (Buffer.byteLength(body) <= MAX_MESSAGE_BYTES) return body;
  const room = Math.floor((MAX_MESSAGE_BYTES - Buffer.byteLength(JSON.stringify({ ...letter, body: '' }))) / 6) - 64; // ≤6 bytes per escaped char
  return JSON.stringify({ ...letter, body: `${letter.body.slice(0, Math.max(0, room))}… (truncated from ${letter.body.length} characters)` });
}

/** Posts a DeadLetter to the fleet's DLQ; rejects when SQS refuses (the caller keeps the message then). */
export async function sendDeadLetter(sqs: SQSClient, log: Logger, dlqUrl: string, letter: DeadLetter, signal?: AbortSignal): Promise<void> {
  await retryAws('SendMessage(dead letter)', () => sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: deadLetterBody(letter) })), {
    log,
    maxAttempts: 7, // about the 10 s it had when the SDK also retried inside each attempt
    signal,
  });
}
