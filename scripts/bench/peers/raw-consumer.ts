import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients } from '../../../common/aws';

/**
 * The raw SQS loop's consumer: receive 10, delete 10, nothing else. A body `{ "parts": [...] }`
 * counts as that many parts (the packed loop), any other body as one. The producer sends SIGUSR2
 * once it has sent every part; from then on the consumer exits after `idle` consecutive empty polls,
 * also one that never got a message (with few packed messages, another consumer can take them all).
 * Prints `ready` once connected, then its part count and the time of its last delete.
 */
async function run(): Promise<void> {
  const [queueUrl, idleArg] = process.argv.slice(2);
  const aws = createAwsClients();
  let count = 0;
  let lastAt = 0;
  let idle = 0;
  let sent = false;
  process.on('SIGUSR2', () => (sent = true));
  try {
    // One empty receive loads and connects the SDK before the producer's clock starts.
    await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
    process.stdout.write('ready\n');
    while (idle < Number(idleArg ?? 3)) {
      const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const messages = r.Messages ?? [];
      if (messages.length === 0) {
        if (sent) idle += 1;
        continue;
      }
      idle = 0;
      await aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      for (const m of messages) {
        const body = JSON.parse(m.Body ?? '{}') as { parts?: unknown };
        count += Array.isArray(body.parts) ? body.parts.length : 1;
      }
      lastAt = Date.now();
    }
    process.stdout.write(`${JSON.stringify({ count, lastAt })}\n`);
  } finally {
    destroyAwsClients(aws);
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`raw-consumer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
