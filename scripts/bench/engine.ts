import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fleetQueueName, type AwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { inputPrefixOf } from '../../common/layout';
import { distPath } from '../../common/paths';
import { launchJob } from '../../manager/launch';
import { compilePipelineObject, DEFAULT_MANIFEST_KEY } from '../../pipeline';
import { compactJob, storeBytesPerPartStage } from '../../store/compaction';
import { createPool } from '../../store/db';
import { migrate } from '../../store/migrate';
import { trackAll } from './memory';
import { child, stop, waitUntil } from './processes';
import { cpuMsOf, jobTimeline, machineCpu, readCallCounts, rowWrites, sharedServicePids, trackPostgresCpu, type Profile } from './profile';
import type { BenchSystem, RunResult } from './system';

export interface EngineSetup {
  /** Fleet worker processes. */
  workers: number;
  /** Parts each fleet worker runs at once. */
  workerConcurrency: number;
  /** The pipeline window (parts in flight). */
  concurrency: number;
  /** A workflow bundle written by `orchestrator --write-bundle`, so no run pays for bundling. */
  bundlePath: string;
  /** A task module for the fleet (`fleet-worker --tasks`). Default: the built-ins only. */
  tasksModule?: string;
  /** Extra environment of fleet worker `i` (0-based), e.g. to make one of them slow. */
  workerEnv?: (i: number) => Record<string, string>;
}

export type StageDef = Record<string, unknown> & { id: string };

/** The benchmark's pipeline: two no-op stages, the second stream-chained to the first. */
export const NOOP_STAGES: StageDef[] = [
  { id: 'first', task: 'noop' },
  { id: 'second', task: 'noop', needs: ['first'], chain: 'stream' },
];

/**
 * One job of `n` parts through `stages` on a fresh orchestrator and fleet, so their peak memory
 * belongs to this run, and on a fresh Postgres schema, so the bytes of `task_rows` belong to this
 * job alone. Seconds run from submitting the job to its result (planning included).
 */
export async function runEngineJob(aws: AwsClients, setup: EngineSetup, n: number, stages: StageDef[] = NOOP_STAGES): Promise<RunResult> {
  const cfg = config();
  const id = randomBytes(3).toString('hex');
  const prefix = `bench${id}`;
  const schema = `bench_${id}`;
  const taskQueue = `bench-${prefix}`;
  const db = createPool(cfg.DATABASE_URL, { schema, max: 2 });
  await migrate(db);
  const url = new URL(cfg.DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = { BATCHGRID_QUEUE_PREFIX: prefix, BATCHGRID_TASK_QUEUE: taskQueue, DATABASE_URL: url.toString() };
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  const tasks = setup.tasksModule ? ['--tasks', setup.tasksModule] : [];
  const countsFile = (name: string) => path.join(os.tmpdir(), `batchgrid-bench-${id}-${name}.json`);
  const orchestrator = child([distPath('manager/cli/main.js'), 'orchestrator', '--bundle', setup.bundlePath], { ...env, BATCHGRID_CALL_COUNTS_FILE: countsFile('orchestrator') });
  const fleet = Array.from({ length: setup.workers }, (_, i) =>
    child([distPath('manager/cli/main.js'), 'fleet-worker', '--fleet', 'bench', '--concurrency', String(setup.workerConcurrency), ...tasks], {
      ...env,
      ...setup.workerEnv?.(i),
      BATCHGRID_CALL_COUNTS_FILE: countsFile(`fleet-worker-${i + 1}`),
    }),
  );
  const pids: Record<string, number> = { orchestrator: orchestrator.pid!, ...Object.fromEntries(fleet.map((p, i) => [`fleet-worker-${i + 1}`, p.pid!])) };
  const memory = trackAll(pids);
  try {
    await waitUntil('the orchestrator to poll', async () => {
      const r = await temporal.workflowService.describeTaskQueue({ namespace: cfg.TEMPORAL_NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: 1 });
      return (r.pollers?.length ?? 0) > 0;
    });
    await waitUntil('the fleet queue', async () => Boolean((await aws.sqs.send(new GetQueueUrlCommand({ QueueName: fleetQueueName(prefix, 'bench') }))).QueueUrl));
    const jobId = `bench-${prefix}-${n}`;
    const inputPrefix = inputPrefixOf(jobId);
    const manifest = Array.from({ length: n }, (_, i) => JSON.stringify({ key: `item-${i}` })).join('\n');
    await aws.s3.send(new PutObjectCommand({ Bucket: cfg.BATCHGRID_BUCKET, Key: `${inputPrefix}${DEFAULT_MANIFEST_KEY}`, Body: manifest }));
    const compiled = compilePipelineObject({
      apiVersion: 'batchgrid/v1',
      kind: 'Pipeline',
      name: 'bench',
      fleet: 'bench',
      concurrency: setup.concurrency,
      input: { split: { by: 'manifest' } },
      stages,
    });
    if (!compiled.ok) throw new Error(`the benchmark's pipeline is invalid: ${JSON.stringify(compiled.problems)}`);
    const shared = await sharedServicePids();
    const watched = { ...pids, ...shared };
    const machineBefore = machineCpu();
    const cpuBefore = cpuOfAll(watched);
    const postgresCpu = trackPostgresCpu(db, orchestrator.pid!);
    const started = Date.now();
    const { handle } = await launchJob({ db, temporal, taskQueue, bucket: cfg.BATCHGRID_BUCKET }, { jobId, pipeline: compiled.pipeline, inputPrefix });
    const summary = await handle.result();
    const ended = Date.now();
    const seconds = (ended - started) / 1000;
    const cpuAfter = cpuOfAll(watched);
    const machineAfter = machineCpu();
    const postgresCpuMs = await postgresCpu.stop();
    if (summary.stages.some((s) => s.succeeded !== n)) throw new Error(`the engine lost parts: ${JSON.stringify(summary.stages)}`);
    const history = await handle.fetchHistory();
    // Stopped before the rows are counted: a session flushes its table statistics when it ends.
    const peaks = memory.peaks();
    await Promise.all([stop(orchestrator), ...fleet.map(stop)]);
    const profile: Profile = {
      cpuMs: { ...Object.fromEntries(Object.keys(watched).map((k) => [k, cpuAfter[k]! - cpuBefore[k]!])), 'postgres (orchestrator)': postgresCpuMs },
      machineBusyPct: Math.round((100 * (machineAfter.busy - machineBefore.busy)) / Math.max(1, machineAfter.total - machineBefore.total)),
      calls: Object.fromEntries(Object.keys(pids).map((k) => [k, readCallCounts(countsFile(k))])),
      rows: await rowWrites(db, schema),
      timeline: await jobTimeline(db, jobId, started, ended),
    };
    const size = await db.query<{ bytes: string }>(`SELECT pg_total_relation_size(to_regclass($1 || '.task_rows'))::text AS bytes`, [schema]);
    const live = (await storeBytesPerPartStage(db, jobId)) ?? 0;
    await compactJob(db, jobId);
    const compacted = (await storeBytesPerPartStage(db, jobId)) ?? 0;
    return {
      storeBytesPerPartStage: { live: Math.round(live), compacted: Math.round(compacted * 10) / 10 },
      seconds,
      memoryMiB: peaks,
      profile,
      historyEvents: history.events?.length ?? 0,
      bytesPerPartStage: Math.round(Number(size.rows[0].bytes) / (n * stages.length)),
    };
  } finally {
    memory.stop();
    await Promise.all([stop(orchestrator), ...fleet.map(stop)]);
    await connection.close();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    for (const k of Object.keys(pids)) fs.rmSync(countsFile(k), { force: true });
    await db.end();
  }
}

const cpuOfAll = (pids: Record<string, number>) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));

/** The engine as a contender: the two-stage no-op pipeline, every part through both stages. */
export function engineSystem(aws: AwsClients, setup: EngineSetup): BenchSystem {
  return { id: 'engine', label: 'engine', run: (n) => runEngineJob(aws, setup, n) };
}
