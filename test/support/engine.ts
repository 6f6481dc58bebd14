import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { inputPrefixOf } from '../../common/layout';
import { readJsonLines } from '../../common/s3-io';
import { BatchGridClient } from '../../manager/client';
import { launchJob, type LaunchRequest } from '../../manager/launch';
import { compilePipelineObject } from '../../pipeline';
import type { PipelineDef } from '../../pipeline/types';
import { createFleetWorker, type FleetWorkerOptions } from '../../worker/fleet';
import { createOrchestrator } from '../../orchestrator';
import { testPool, type TestDb } from './db';
import { quietSdkLogs } from './stack';

/**
 * An engine on the real local stack, isolated for one test file: its own Postgres schema, its
 * own queue prefix (so its own fleet queues), its own Temporal task queue; the orchestrator
 * and fleet workers run in this process.
 */
export interface TestEngine {
  id: string;
  db: TestDb;
  aws: AwsClients;
  temporal: Client;
  bucket: string;
  queuePrefix: string;
  taskQueue: string;
  /** Starts `n` in-process fleet workers; returns them so a test can stop one. */
  startFleet(n?: number, options?: Partial<FleetWorkerOptions>): Promise<ReturnType<typeof createFleetWorker>[]>;
  /** Uploads `files` under a fresh job's input prefix and launches the pipeline. */
  submit(pipeline: PipelineDef | Record<string, unknown>, files: Record<string, string>, extra?: Partial<LaunchRequest>): Promise<{ jobId: string; handle: Awaited<ReturnType<typeof launchJob>>['handle'] }>;
  /** The JSON lines of an object in the bucket. */
  readJsonLines<T>(key: string): Promise<T[]>;
  /** Body of an object as text. */
  readText(key: string): Promise<string>;
  close(): Promise<void>;
}

export const randomId = (prefix = '') => `${prefix}${randomBytes(4).toString('hex')}`;

/** A pipeline object compiled, or the test fails with its problems. */
export function pipeline(obj: Record<string, unknown>): PipelineDef {
  const r = compilePipelineObject({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', ...obj });
  if (!r.ok) throw new Error(`test pipeline invalid: ${JSON.stringify(r.problems)}`);
  return r.pipeline;
}

export async function startEngine(options: { orchestrator?: boolean } = {}): Promise<TestEngine> {
  quietSdkLogs();
  const cfg = config();
  const id = randomId();
  const db = await testPool();
  const aws = createAwsClients();
  const bucket = cfg.BATCHGRID_BUCKET;
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  const queuePrefix = `t${id}`;
  const taskQueue = `test-${id}`;
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  const fleets: ReturnType<typeof createFleetWorker>[] = [];
  let orchestrator: { worker: Worker; close: () => Promise<void> } | undefined;
  let running: Promise<void> | undefined;
  if (options.orchestrator ?? true) {
    orchestrator = await createOrchestrator({ taskQueue, db: db.pool, aws, queuePrefix });
    running = orchestrator.worker.run();
  }
  const engine: TestEngine = {
    id,
    db,
    aws,
    temporal,
    bucket,
    queuePrefix,
    taskQueue,
    async startFleet(n = 1, o = {}) {
      const started = [];
      for (let i = 0; i < n; i += 1) {
        const w = createFleetWorker({ fleet: 'default', clients: aws, queuePrefix, waitTimeSeconds: 1, heartbeatIntervalMs: 1000, shutdownGraceMs: 2000, ...o });
        await w.start();
        fleets.push(w);
        started.push(w);
      }
      return started;
    },
    async submit(p, files, extra = {}) {
      const def = 'stages' in p && Array.isArray(p.stages) && typeof (p.stages[0] as { timeoutMs?: number })?.timeoutMs === 'number' ? (p as PipelineDef) : pipeline(p as Record<string, unknown>);
      const jobId = extra.jobId ?? randomId('j');
      const inputPrefix = inputPrefixOf(jobId);
      for (const [name, body] of Object.entries(files)) {
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${inputPrefix}${name}`, Body: body }));
      }
      const { handle } = await launchJob({ db: db.pool, temporal, taskQueue, bucket }, { jobId, pipeline: def, inputPrefix, ...extra });
      return { jobId, handle };
    },
    async readJsonLines<T>(key: string) {
      const out: T[] = [];
      for await (const row of readJsonLines<T>(aws.s3, bucket, key)) out.push(row);
      return out;
    },
    async readText(key: string) {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const r = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return r.Body!.transformToString();
    },
    async close() {
      await Promise.all(fleets.map((f) => f.stop()));
      if (orchestrator) {
        orchestrator.worker.shutdown();
        await running;
        await orchestrator.close();
      }
      await connection.close();
      await db.drop();
      destroyAwsClients(aws);
    },
  };
  return engine;
}

/**
 * For a describe block: starts an engine (its own task queue and queue prefix) and a client on
 * it before the tests, and closes both after. Read `.engine` and `.client` inside the tests.
 */
export function useEngineWithClient(): { engine: TestEngine; client: BatchGridClient } {
  const ctx = {} as { engine: TestEngine; client: BatchGridClient };
  beforeAll(async () => {
    ctx.engine = await startEngine();
    const e = ctx.engine;
    ctx.client = await BatchGridClient.connect({ db: e.db.pool, temporal: e.temporal, aws: e.aws, taskQueue: e.taskQueue, bucket: e.bucket, queuePrefix: e.queuePrefix });
  }, 120_000);
  afterAll(async () => {
    await ctx.client?.close();
    await ctx.engine?.close();
  });
  return ctx;
}
