import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients, destroyAwsClients } from '../../common/aws';
import { cpuMsOf, sharedServicePids } from './profile';

/**
 * `node dist/scripts/bench/sqs-call-cost.js [--messages N] [--polls 0,8,32] [--bytes 100,1024]`: the SQS server's own
 * CPU per call on the local stack (docs/engine.md, "Where the time goes"): with N idle one-second
 * long polls held open, and per SendMessageBatch and per receive + delete of ten messages of each size.
 * The server is the one `dev up` started; read its CPU from /proc.
 */
async function main(): Promise<void> {
  const o = new Command()
    .option('--messages <n>', 'messages sent, received and deleted (in batches of 10)', (v) => Number(v), 2000)
    .option('--polls <list>', 'idle long polls held open, one measurement each', (v) => v.split(',').map(Number), [0, 8, 32])
    .option('--seconds <s>', 'how long each idle measurement lasts', (v) => Number(v), 10)
    .option('--bytes <list>', 'message body sizes, one measurement each', (v) => v.split(',').map(Number), [1024])
    .parse()
    .opts<{ messages: number; polls: number[]; seconds: number; bytes: number[] }>();
  const pid = (await sharedServicePids()).elasticmq;
  if (pid === undefined) throw new Error('no ElasticMQ process found: start the stack with `bin/batchgrid dev up`');
  const aws = createAwsClients();
  const { sqs } = aws;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `call-cost-${process.pid}` }))).QueueUrl!;
  try {
    let idleMs: number | undefined;
    for (const n of o.polls) {
      let stop = false;
      const loops = Array.from({ length: n }, async () => {
        while (!stop) await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      });
      await sleep(1000);
      const [c0, t0] = [cpuMsOf(pid), Date.now()];
      await sleep(o.seconds * 1000);
      const [ms, elapsed] = [cpuMsOf(pid) - c0, Date.now() - t0];
      stop = true;
      await Promise.all(loops);
      const share = (100 * ms) / elapsed;
      idleMs ??= n === 0 ? ms / elapsed : undefined;
      const perPoll = n > 0 && idleMs !== undefined ? ` (${(((ms / elapsed - idleMs) * 1000) / n).toFixed(1)} ms of CPU per poll above the idle server)` : '';
      console.log(`${n} idle long polls of 1 s: the SQS server used ${share.toFixed(1)} % of a core${perPoll}`);
    }
    for (const bytes of o.bytes) {
      const body = 'x'.repeat(bytes);
      const batches = Math.ceil(o.messages / 10);
      const c0 = cpuMsOf(pid);
      for (let i = 0; i < batches; i++) {
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: body })) }));
      }
      const c1 = cpuMsOf(pid);
      let received = 0;
      let receives = 0;
      while (received < batches * 10) {
        const messages = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? [];
        receives += 1;
        received += messages.length;
        if (messages.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      const c2 = cpuMsOf(pid);
      const size = bytes >= 1024 ? `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB` : `${bytes} B`;
      console.log(`messages of ${size}: SendMessageBatch of 10 ${((c1 - c0) / batches).toFixed(1)} ms of the server's CPU a call; ReceiveMessage + DeleteMessageBatch of up to 10 ${((c2 - c1) / receives).toFixed(1)} ms a pair (${receives} receives); ${(((c2 - c0) / (batches * 10)) * 1000).toFixed(0)} µs a message in all`);
    }
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    destroyAwsClients(aws);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
