import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { Client as PgClient } from 'pg';
import { config } from '../../common/config';
import type { FixtureActivities } from '../fixtures/workflows';
import { awsClients, createTestQueue, ensureTestStack, uniqueName, waitFor, withInProcessWorker, withTimeout } from '../support/stack';

/** The local stack really answers: Temporal (with a worker), SQS on moto and on ElasticMQ, S3 (versitygw), Postgres. Restarts are test/chaos/stack-persistence.test.ts. */
describe('local stack', () => {
  beforeAll(async () => {
    await ensureTestStack();
  }, 300_000);

  test('Temporal runs a workflow with an activity on an in-process worker and keeps its search attributes', async () => {
    const taskQueue = uniqueName('stack-test');
    const status = defineSearchAttributeKey('BatchgridStatus', SearchAttributeType.KEYWORD);
    const activities: FixtureActivities = { shout: async (text) => text.toUpperCase() };
    const { result, attribute } = await withInProcessWorker({ taskQueue, workflowsPath: require.resolve('../fixtures/workflows'), activities }, async (client) => {
      const handle = await client.workflow.start('greet', {
        taskQueue,
        workflowId: uniqueName('stack-test'),
        args: ['batchgrid'],
        typedSearchAttributes: [{ key: status, value: 'testing' }],
      });
      const r = await withTimeout(handle.result() as Promise<string>, 30_000, 'workflow greet');
      return { result: r, attribute: (await handle.describe()).typedSearchAttributes.get(status) };
    });
    expect(result).toBe('hello, BATCHGRID');
    expect(attribute).toBe('testing');
  });

  describe.each([
    ['moto', config().BATCHGRID_MOTO_PORT],
    ['elasticmq', config().BATCHGRID_ELASTICMQ_PORT],
  ] as const)('SQS on %s', (backend, port) => {
    const aws = awsClients({ BATCHGRID_SQS_BACKEND: backend });
    afterAll(() => aws.close());

    test('SendMessageBatch, ReceiveMessage (long polling) and DeleteMessageBatch', async () => {
      const queue = await createTestQueue(aws.sqs, uniqueName(`stack-test-${backend}`));
      try {
        expect(new URL(queue.url).port).toBe(String(port));
        const bodies = Array.from({ length: 25 }, (_, i) => `message ${i}`);
        for (let i = 0; i < bodies.length; i += 10) {
          const entries = bodies.slice(i, i + 10).map((body, j) => ({ Id: `m${i + j}`, MessageBody: body }));
          const sent = await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
          expect(sent.Failed ?? []).toEqual([]);
        }
        const received: Message[] = [];
        await waitFor(
          async () => {
            const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
            if (Messages.length > 0) {
              const deleted = await aws.sqs.send(
                new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }),
              );
              expect(deleted.Failed ?? []).toEqual([]);
              received.push(...Messages);
            }
            return received.length >= bodies.length;
          },
          { timeoutMs: 30_000, what: `receiving ${bodies.length} messages` },
        );
        expect(received.map((m) => m.Body).sort()).toEqual([...bodies].sort());
        const { Attributes } = await aws.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
        );
        expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
      } finally {
        await queue.cleanup();
      }
    });
  });

  test('S3 put, get and list in the bucket', async () => {
    const aws = awsClients();
    const Bucket = config().BATCHGRID_BUCKET;
    const prefix = `${uniqueName('stack-test')}/`;
    const keys = ['a.txt', 'b/c.txt'].map((k) => prefix + k);
    try {
      for (const Key of keys) await aws.s3.send(new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}` }));
      const got = await aws.s3.send(new GetObjectCommand({ Bucket, Key: keys[1] }));
      expect(await got.Body!.transformToString()).toBe(`body of ${keys[1]}`);
      const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(keys);
    } finally {
      await aws.s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } })).catch(() => undefined);
      aws.close();
    }
  });

  test('Postgres answers at DATABASE_URL', async () => {
    const pg = new PgClient({ connectionString: config().DATABASE_URL });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ db: string }>('select current_database() as db');
      expect(rows[0].db).toBe(new URL(config().DATABASE_URL).pathname.slice(1));
    } finally {
      await pg.end();
    }
  });
});
