import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '../../common/config';
import { restartDevService, startDevService, type DevServiceName } from '../../manager/devstack';
import type { FixtureActivities } from '../fixtures/workflows';
import { awsClients, createTestQueue, ensureTestStack, quietSdkLogs, uniqueName, waitFor, waitForValue, withTimeout } from '../support/stack';

/**
 * The local stack keeps its data across a restart of each server (the stack is the default a
 * single-machine user runs on). Each test restarts one service of the stack the environment
 * configures and leaves it running, as it found it.
 */
describe('local stack keeps its data across restarts', () => {
  const cfg = loadConfig();
  const restart = (name: DevServiceName) => restartDevService(name, { config: cfg });

  beforeAll(async () => {
    quietSdkLogs();
    await ensureTestStack();
  }, 300_000);

  afterAll(async () => {
    // Whatever a failed test left stopped is started again.
    for (const name of ['temporal', 'sqs', 's3'] as const) await startDevService(name, { config: cfg });
  }, 180_000);

  test('SQS: a queue with its attributes, its visible messages and an in-flight one survive a restart', async () => {
    const aws = awsClients();
    const dlq = await createTestQueue(aws.sqs, uniqueName('persist-dlq'));
    const { Attributes: dlqAttributes } = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['QueueArn'] }));
    const redrivePolicy = JSON.stringify({ deadLetterTargetArn: dlqAttributes!.QueueArn, maxReceiveCount: 5 });
    const queue = await createTestQueue(aws.sqs, uniqueName('persist'), { VisibilityTimeout: '45', RedrivePolicy: redrivePolicy });
    try {
      const bodies = ['one', 'two', 'three'];
      const sent = await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody })) }));
      expect(sent.Failed ?? []).toEqual([]);
      // One message in flight for 4 s: after the restart it must come back when that ends.
      const inFlight = await waitForValue('one message received', async () => {
        const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, VisibilityTimeout: 4, WaitTimeSeconds: 1 }));
        return Messages[0];
      });

      await restart('sqs');

      const { Attributes } = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }));
      expect(Attributes?.VisibilityTimeout).toBe('45');
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: dlqAttributes!.QueueArn, maxReceiveCount: 5 });
      const received: Message[] = [];
      await waitFor(
        async () => {
          const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
          received.push(...Messages);
          return received.length >= bodies.length;
        },
        { timeoutMs: 60_000, what: 'all three messages received again after the restart' },
      );
      expect(received.map((m) => m.Body).sort()).toEqual([...bodies].sort());
      // The in-flight one is the same message, received a second time (its receive count persisted too).
      const again = received.find((m) => m.MessageId === inFlight.MessageId);
      expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    } finally {
      await queue.cleanup();
      await dlq.cleanup();
      aws.close();
    }
  });

  test('S3: the bucket, a small object and a multipart one survive a restart', async () => {
    const aws = awsClients();
    const Bucket = cfg.BATCHGRID_BUCKET;
    const prefix = `${uniqueName('persist')}/`;
    const small = `small object ${randomBytes(8).toString('hex')}`;
    const big = randomBytes(11 * 1024 * 1024); // three parts of lib-storage's default 5 MiB
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
    try {
      await aws.s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}small.txt`, Body: small }));
      await new Upload({ client: aws.s3, params: { Bucket, Key: `${prefix}big.bin`, Body: big } }).done();
      const etagBefore = (await aws.s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}big.bin` }))).ETag;
      expect(etagBefore).toMatch(/-3"$/);

      await restart('s3');

      const got = await aws.s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}small.txt` }));
      expect(await got.Body!.transformToString()).toBe(small);
      const gotBig = await aws.s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}big.bin` }));
      expect(md5(await gotBig.Body!.transformToByteArray())).toBe(md5(big));
      expect((await aws.s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}big.bin` }))).ETag).toBe(etagBefore);
      const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([`${prefix}big.bin`, `${prefix}small.txt`]);
    } finally {
      await aws.s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: `${prefix}small.txt` }, { Key: `${prefix}big.bin` }] } })).catch(() => undefined);
      aws.close();
    }
  });

  test('Temporal: a workflow started before a restart runs to completion after it', async () => {
    const taskQueue = uniqueName('persist');
    const workflowId = uniqueName('persist');
    // No worker yet: the workflow exists only in the server's database while it restarts.
    let connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
    try {
      await new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE }).workflow.start('greet', { taskQueue, workflowId, args: ['restart'] });
    } finally {
      await connection.close();
    }

    await restart('temporal');

    connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
    const nativeConnection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
      const handle = client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      const activities: FixtureActivities = { shout: async (text) => text.toUpperCase() };
      const worker = await Worker.create({ connection: nativeConnection, namespace: cfg.TEMPORAL_NAMESPACE, taskQueue, workflowsPath: require.resolve('../fixtures/workflows'), activities });
      const result = await worker.runUntil(withTimeout(handle.result() as Promise<string>, 60_000, 'workflow greet after the restart'));
      expect(result).toBe('hello, RESTART');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
