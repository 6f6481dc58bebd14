import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients } from '../../common/aws';

/**
 * The hand-rolled loop's consumer: receive 10, delete 10, nothing else. Exits after the queue has
 * been empty for `idle` consecutive polls once it has seen work; prints its count and last delete time.
 */
async function run(): Promise<void> {
  const [queueUrl, idleArg] = process.argv.slice(2);
  const aws = createAwsClients();
  let count = 0;
  let lastAt = 0;
  let idle = 0;
  try {
    while (idle < Number(idleArg ?? 3)) {
      const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const messages = r.Messages ?? [];
      if (messages.length === 0) {
        if (count > 0) idle += 1;
        continue;
      }
      idle = 0;
      await aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      count += messages.length;
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
