import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { AwsClients } from '../../../common/aws';
import { distPath } from '../../../common/paths';
import { sendBodies } from '../../../activities/task-sender';
import { trackAll } from '../memory';
import { child, lastJsonLine, ready, stdoutOf } from '../processes';
import type { BenchSystem } from '../system';

/**
 * The floor of SQS itself: the producer sends the parts in batches of 10 messages, `consumers`
 * processes receive 10 and delete 10, nothing else. `partsPerMessage` > 1 packs that many parts
 * into one message body, as the engine packs its task messages.
 */
export function rawSqs(aws: AwsClients, consumers: number, partsPerMessage: number): BenchSystem {
  const packed = partsPerMessage > 1;
  return {
    id: packed ? 'rawSqsPacked' : 'rawSqs',
    label: packed ? `raw SQS ×${partsPerMessage}` : 'raw SQS',
    async run(n) {
      const name = `bench-raw-${randomBytes(4).toString('hex')}`;
      const url = (await aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      const procs = Array.from({ length: consumers }, () => child([distPath('scripts/bench/peers/raw-consumer.js'), url, '3']));
      const memory = trackAll(Object.fromEntries(procs.map((p, i) => [`consumer-${i + 1}`, p.pid!])));
      try {
        const outputs = procs.map((p) => stdoutOf(p, 'raw consumer').then((out) => lastJsonLine<{ count: number; lastAt: number }>(out)));
        await Promise.all(procs.map((p) => ready(p, 'raw consumer')));
        const started = Date.now();
        const bodies: string[] = [];
        for (let first = 0; first < n; first += partsPerMessage) {
          const parts = Array.from({ length: Math.min(partsPerMessage, n - first) }, (_, i) => first + i);
          bodies.push(JSON.stringify(packed ? { parts } : { part: first }));
        }
        await sendBodies(aws.sqs, url, bodies);
        // Every part is on the queue: the consumers may now count empty polls towards their exit.
        procs.forEach((p) => p.kill('SIGUSR2'));
        const results = await Promise.all(outputs);
        const total = results.reduce((a, r) => a + r.count, 0);
        if (total !== n) throw new Error(`the raw loop consumed ${total} parts of ${n}`);
        return { seconds: (Math.max(...results.map((r) => r.lastAt)) - started) / 1000, memoryMiB: memory.peaks() };
      } finally {
        memory.stop();
        procs.forEach((p) => p.kill('SIGTERM'));
        await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
    },
  };
}
