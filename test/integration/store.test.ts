import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { config } from '../../common/config';
import { ServiceUnavailableError } from '../../common/errors';
import type { WorkerEvent } from '../../common/messages';
import { packageRoot } from '../../common/paths';
import type { PipelineDef } from '../../pipeline/types';
import {
  applyResults,
  claimStageRun,
  createPool,
  getFleet,
  IDLE_IN_TRANSACTION_MS,
  getPart,
  getJob,
  getStageRuns,
  insertJob,
  jobProgress,
  listDecisions,
  listJobs,
  listMigrations,
  listWorkers,
  markLostWorkers,
  markQueued,
  markStarted,
  migrate,
  migrationStatus,
  migrationsDir,
  recordDecision,
  redactUrl,
  setJobStatus,
  setStageRunStatus,
  succeededAfter,
  upsertFleet,
  upsertStageRun,
  upsertStageRuns,
  upsertWorkerEvents,
  withTransaction,
  type Job,
  type NewJob,
} from '../../store';
import { randomSchema, testPool, type TestDb } from '../support/db';

const TABLES = ['fleets', 'job_aggregates', 'job_claims', 'jobs', 'part_cache', 'scaling_decisions', 'schema_migrations', 'stage_run_intervals', 'stage_runs', 'task_attempts', 'task_rows', 'task_runs', 'workers'];

const definition: PipelineDef = {
  apiVersion: 'batchgrid/v1',
  kind: 'Pipeline',
  name: 'claims',
  fleet: 'default',
  concurrency: 10,
  input: { split: { by: 'object' } },
  stages: [
    {
      id: 'validate',
      task: 'claims.validate',
      params: { strict: true },
      timeoutMs: 60000,
      retry: { attempts: 3, backoffMs: 1000, maxBackoffMs: 10000 },
      tolerate: {},
      needs: [],
      chain: 'barrier',
      gather: false,
    },
  ],
};

function newJob(jobId: string, over: Partial<NewJob> = {}): NewJob {
  return {
    jobId,
    pipelineName: 'claims',
    definition,
    bucket: 'bucket',
    inputPrefix: `jobs/${jobId}/input/`,
    workflowId: `job-${jobId}`,
    fleet: 'default',
    ...over,
  };
}

async function tablesIn(db: TestDb): Promise<string[]> {
  const r = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [db.schema]);
  return r.rows.map((x) => x.table_name);
}

describe('migrations', () => {
  it('finds the .sql files under the package root, for ts and compiled code alike', () => {
    expect(migrationsDir()).toBe(path.join(packageRoot(), 'store', 'migrations'));
    expect(listMigrations()[0]).toEqual({ version: 1, name: 'init', file: '001_init.sql' });
  });

  it('applies every migration once; a second run is a no-op', async () => {
    const db = await testPool({ migrate: false });
    try {
      expect(await migrationStatus(db.pool)).toEqual({ applied: [], pending: listMigrations() });
      const info = jest.fn();
      const first = await migrate(db.pool, { log: { info } });
      expect(first.map(({ version, name, file }) => ({ version, name, file }))).toEqual(listMigrations());
      expect(first[0].appliedAt).toBeInstanceOf(Date);
      expect(info).toHaveBeenCalledTimes(listMigrations().length);
      expect(info.mock.calls[0][0]).toMatchObject({ version: 1, migration: 'init' });
      expect(await migrate(db.pool, { log: { info } })).toEqual([]);
      expect(info).toHaveBeenCalledTimes(listMigrations().length);
      expect(await tablesIn(db)).toEqual(TABLES);
      const status = await migrationStatus(db.pool);
      expect(status.pending).toEqual([]);
      expect(status.applied.map((m) => m.version)).toEqual(listMigrations().map((m) => m.version));
    } finally {
      await db.drop();
    }
  });

  it('accepts gaps in the numbering: a lower version that lands later (another branch) is applied then', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    const db = await testPool({ migrate: false });
    try {
      fs.writeFileSync(path.join(dir, '001_a.sql'), 'CREATE TABLE a (x int);');
      fs.writeFileSync(path.join(dir, '003_c.sql'), 'CREATE TABLE c (x int);');
      expect((await migrate(db.pool, { dir })).map((m) => m.file)).toEqual(['001_a.sql', '003_c.sql']);
      fs.writeFileSync(path.join(dir, '002_b.sql'), 'CREATE TABLE b (x int);');
      expect((await migrationStatus(db.pool, dir)).pending.map((m) => m.file)).toEqual(['002_b.sql']);
      expect((await migrate(db.pool, { dir })).map((m) => m.file)).toEqual(['002_b.sql']);
      expect(await tablesIn(db)).toEqual(['a', 'b', 'c', 'schema_migrations']);
    } finally {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is safe when two processes migrate a fresh schema at once', async () => {
    const schema = randomSchema();
    // Two pools stand for two processes: both also race to create the schema.
    const a = createPool(config().DATABASE_URL, { schema, max: 2 });
    const b = createPool(config().DATABASE_URL, { schema, max: 2 });
    try {
      const results = await Promise.all([migrate(a), migrate(b)]);
      const counts = results.map((r) => r.length).sort();
      expect(counts).toEqual([0, listMigrations().length]);
      const r = await a.query('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(r.rows).toEqual(listMigrations().map(({ version, name }) => ({ version, name })));
      const t = await a.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
      expect(t.rows.map((x) => x.table_name)).toEqual(TABLES);
    } finally {
      await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await Promise.all([a.end(), b.end()]);
    }
  });
});

describe('pool', () => {
  it('names Postgres and the URL without its password when it cannot connect', async () => {
    const pool = createPool('postgres://batchgrid:s3cret@127.0.0.1:1/batchgrid', { connectionTimeoutMs: 2000 });
    try {
      const err = await pool.query('SELECT 1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect((err as ServiceUnavailableError).service).toBe('Postgres');
      expect((err as ServiceUnavailableError).endpoint).toBe('postgres://batchgrid@127.0.0.1:1/batchgrid');
      expect((err as Error).message).toContain('Postgres is not reachable at postgres://batchgrid@127.0.0.1:1/batchgrid');
      expect((err as Error).message).not.toContain('s3cret');
      await expect(pool.connect()).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await pool.end();
    }
  });

  it('wraps a refused login too', async () => {
    const url = new URL(config().DATABASE_URL);
    url.password = 'wrong-password';
    const pool = createPool(url.toString());
    try {
      const err = await pool.query('SELECT 1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect(((err as Error).cause as { code: string }).code).toBe('28P01');
    } finally {
      await pool.end();
    }
  });

  it("keeps its idle-in-transaction timeout when the URL has options of its own (they replaced it whole before, so a frozen process held its locks)", async () => {
    const url = new URL(config().DATABASE_URL);
    url.searchParams.set('options', '-c search_path=pg_catalog -c statement_timeout=12345');
    const pool = createPool(url.toString());
    try {
      const show = async (name: string) => (await pool.query(`SHOW ${name}`)).rows[0][name];
      expect(await show('idle_in_transaction_session_timeout')).toBe(`${IDLE_IN_TRANSACTION_MS / 1000}s`);
      // The URL's own options still apply.
      expect(await show('search_path')).toBe('pg_catalog');
      expect(await show('statement_timeout')).toBe('12345ms');
    } finally {
      await pool.end();
    }
    // An explicit schema wins over the URL's search_path; the URL's own setting may change the default.
    url.searchParams.set('options', '-c search_path=pg_catalog -c idle_in_transaction_session_timeout=3s');
    const schemaPool = createPool(url.toString(), { schema: 'public' });
    try {
      expect((await schemaPool.query('SHOW search_path')).rows[0].search_path).toBe('public');
      expect((await schemaPool.query('SHOW idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout).toBe('3s');
    } finally {
      await schemaPool.end();
    }
  });

  it('redacts passwords', () => {
    expect(redactUrl('postgres://u:p@h:5432/d')).toBe('postgres://u@h:5432/d');
    expect(redactUrl('postgres://h/d?password=p&sslmode=require')).toBe('postgres://h/d?sslmode=require');
  });
});

describe('store', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await testPool();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('jobs', () => {
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);

    it('inserts idempotently and reads back every field', async () => {
      expect(await insertJob(db.pool, newJob('j-1', { createdAt: at(0), startAt: at(60) }))).toBe(true);
      expect(await insertJob(db.pool, newJob('j-1', { pipelineName: 'other' }))).toBe(false);
      expect(await getJob(db.pool, 'j-1')).toEqual<Job>({
        jobId: 'j-1',
        pipelineName: 'claims',
        definition,
        status: 'scheduled',
        bucket: 'bucket',
        inputPrefix: 'jobs/j-1/input/',
        workflowId: 'job-j-1',
        parentJobId: null,
        fleet: 'default',
        priority: 1,
        concurrency: definition.concurrency,
        tolerate: null,
        createdAt: at(0),
        startAt: at(60),
        startedAt: null,
        finishedAt: null,
        summary: null,
        error: null,
      });
      expect(await getJob(db.pool, 'nope')).toBeUndefined();
    });

    it('stores the default created_at to the millisecond, so it round-trips as a cursor', async () => {
      await insertJob(db.pool, newJob('j-now', { pipelineName: 'now' }));
      const job = (await getJob(db.pool, 'j-now'))!;
      const r = await db.pool.query(`SELECT created_at = $1::timestamptz AS same FROM jobs WHERE job_id = 'j-now'`, [job.createdAt]);
      expect(r.rows[0].same).toBe(true);
      expect(await listJobs(db.pool, { pipeline: 'now', before: job })).toEqual([]);
    });

    it('lists newest first, filtered and paged by (created_at, job_id)', async () => {
      await insertJob(db.pool, newJob('j-2', { createdAt: at(1), pipelineName: 'etl' }));
      await insertJob(db.pool, newJob('j-3', { createdAt: at(2), status: 'running' }));
      await insertJob(db.pool, newJob('j-4a', { createdAt: at(3), pipelineName: 'etl', parentJobId: 'j-2' }));
      await insertJob(db.pool, newJob('j-4b', { createdAt: at(3) })); // same instant: job_id breaks the tie
      const ids = (jobs: Job[]) => jobs.map((j) => j.jobId);
      const newest = await listJobs(db.pool, { pipeline: 'claims' });
      expect(ids(newest)).toEqual(['j-4b', 'j-3', 'j-1']);
      expect(ids(await listJobs(db.pool, { pipeline: 'etl' }))).toEqual(['j-4a', 'j-2']);
      expect((await getJob(db.pool, 'j-4a'))!.parentJobId).toBe('j-2');
      expect(ids(await listJobs(db.pool, { status: 'running' }))).toEqual(['j-3']);
      expect(ids(await listJobs(db.pool, { status: ['running', 'scheduled'], pipeline: 'etl' }))).toEqual(['j-4a', 'j-2']);

      const pages: string[][] = [];
      let before: Job | undefined;
      for (;;) {
        const page = await listJobs(db.pool, { limit: 2, before, status: ['scheduled', 'running'] });
        if (page.length === 0) break;
        pages.push(ids(page).filter((id) => id !== 'j-now'));
        before = page[page.length - 1];
      }
      expect(pages.flat()).toEqual(['j-4b', 'j-4a', 'j-3', 'j-2', 'j-1']);
      expect(pages[0]).toEqual(['j-4b', 'j-4a']);
      await expect(listJobs(db.pool, { limit: 0 })).rejects.toThrow('limit must be a positive integer, got 0.');
    });

    it('moves status, stamps times, and never leaves a terminal status', async () => {
      expect(await setJobStatus(db.pool, 'j-1', 'running', { startedAt: at(10) })).toBe(true);
      expect(await setJobStatus(db.pool, 'j-1', 'paused')).toBe(true);
      expect(await setJobStatus(db.pool, 'j-1', 'running', { startedAt: at(20) })).toBe(true); // first start is kept
      expect(await setJobStatus(db.pool, 'j-1', 'succeeded', { summary: { parts: 3 }, finishedAt: at(30) })).toBe(true);
      expect(await setJobStatus(db.pool, 'j-1', 'failed', { error: 'late failure', finishedAt: at(40) })).toBe(false);
      expect(await setJobStatus(db.pool, 'j-1', 'running')).toBe(false);
      expect(await setJobStatus(db.pool, 'missing', 'running')).toBe(false);
      const job = (await getJob(db.pool, 'j-1'))!;
      expect([job.status, job.startedAt, job.finishedAt, job.summary, job.error]).toEqual(['succeeded', at(10), at(30), { parts: 3 }, null]);

      const before = Date.now();
      expect(await setJobStatus(db.pool, 'j-3', 'running')).toBe(true);
      expect(await setJobStatus(db.pool, 'j-3', 'failed', { error: 'boom' })).toBe(true);
      const j3 = (await getJob(db.pool, 'j-3'))!;
      expect([j3.status, j3.error]).toEqual(['failed', 'boom']);
      expect(j3.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(j3.finishedAt!.getTime()).toBeGreaterThanOrEqual(j3.startedAt!.getTime());
    });
  });

  describe('part attempts', () => {
    const failure = (part: number, attempt: number, message: string, retryAt?: number) => ({
      workerId: `w-${attempt}`,
      retryAt,
      result: { part, attempt, status: 'failed' as const, outputs: [], error: { type: 'Error', message, retryable: true }, sentAt: 1000, receivedAt: 1100, startedAt: 1200, finishedAt: 1300 + attempt, bytesIn: 5, bytesOut: 0 },
    });

    it('keeps every failed attempt once, from the statement that applies it; duplicates and stale attempts add nothing', async () => {
      await insertJob(db.pool, newJob('a-1'));
      await upsertStageRun(db.pool, { jobId: 'a-1', stageId: 'work', task: 't', mode: 'input' });
      const queue = (attempt: number) => markQueued(db.pool, 'a-1', 'work', [{ part: 0, attempt, sentAt: 1000 * attempt, deadlineAt: 1e12, inputs: [{ key: 'in/0' }] }]);
      await queue(1);
      expect(await applyResults(db.pool, 'a-1', 'work', [], [failure(0, 1, 'first', 5000)])).toEqual([{ part: 0, attempt: 1, status: 'retry_wait' }]);
      // The same completion delivered twice, and a late one of attempt 1 after attempt 2 was sent.
      expect(await applyResults(db.pool, 'a-1', 'work', [], [failure(0, 1, 'first again', 5000)])).toEqual([]);
      await queue(2);
      expect(await applyResults(db.pool, 'a-1', 'work', [], [failure(0, 1, 'stale', 5000)])).toEqual([]);
      expect(await applyResults(db.pool, 'a-1', 'work', [], [failure(0, 2, 'second')])).toEqual([{ part: 0, attempt: 2, status: 'failed' }]);
      const part = (await getPart(db.pool, 'a-1', 'work', 0))!;
      expect(part).toMatchObject({ status: 'failed', attempt: 2, inputs: [{ key: 'in/0' }], outputs: [] });
      expect(part.attempts.map((a) => [a.attempt, a.status, a.workerId, a.error?.message, a.retryAt !== null, a.sentAt?.getTime()])).toEqual([
        [1, 'failed', 'w-1', 'first', true, 1000],
        [2, 'failed', 'w-2', 'second', false, 2000],
      ]);
      expect(await getPart(db.pool, 'a-1', 'work', 1)).toBeUndefined();
    });

    it("fences a stage activity attempt's writes once a newer attempt owns the stage run", async () => {
      await insertJob(db.pool, newJob('a-3'));
      await upsertStageRun(db.pool, { jobId: 'a-3', stageId: 'work', task: 't', mode: 'input' });
      const queued = (part: number) => ({ part, attempt: 1, sentAt: 1000, deadlineAt: 1e12, inputs: [{ key: `in/${part}` }] });
      const success = (part: number) => ({ workerId: 'w-1', result: { part, attempt: 1, status: 'succeeded' as const, outputs: [], sentAt: 1000, receivedAt: 1100, startedAt: 1200, finishedAt: 1300, bytesIn: 1, bytesOut: 1 } });
      const started = (part: number) => ({ part, attempt: 1, startedAt: 1200, workerId: 'w-1', deadlineAt: 1e12 });
      expect((await claimStageRun(db.pool, 'a-3', 'work', 1)).claimed).toBe(true);
      expect(await markQueued(db.pool, 'a-3', 'work', [queued(0), queued(1)], 1)).toBe(true);
      // A final part is not reopened: no row changes, yet the owner's write is no fenced one.
      expect(await applyResults(db.pool, 'a-3', 'work', [success(1)], [], 1)).toEqual([{ part: 1, attempt: 1, status: 'succeeded' }]);
      expect(await markQueued(db.pool, 'a-3', 'work', [queued(1)], 1)).toBe(true);
      expect(await applyResults(db.pool, 'a-3', 'work', [success(1)], [], 1)).toEqual([]);

      // Attempt 2 takes the stage over (attempt 1's orchestrator was frozen past its heartbeat) and rebuilds its window from what is stored.
      expect((await claimStageRun(db.pool, 'a-3', 'work', 2)).claimed).toBe(true);
      expect(await applyResults(db.pool, 'a-3', 'work', [success(0)], [], 1)).toBeNull();
      expect(await markStarted(db.pool, 'a-3', 'work', [started(0)], 1)).toBeNull();
      expect(await markQueued(db.pool, 'a-3', 'work', [queued(2)], 1)).toBe(false);
      expect(await setStageRunStatus(db.pool, 'a-3', 'work', 'succeeded', { owner: 1 })).toBe(false);
      const rows = await db.pool.query(`SELECT part, status, started_at FROM task_runs WHERE job_id = 'a-3' ORDER BY part`);
      expect(rows.rows).toEqual([
        { part: 0, status: 'queued', started_at: null },
        { part: 1, status: 'succeeded', started_at: new Date(1200) },
      ]);
      expect((await getStageRuns(db.pool, 'a-3'))[0].status).toBe('pending');

      // The owner's writes apply; the success attempt 1 could not record reaches attempt 2 (its message was never deleted).
      expect(await markStarted(db.pool, 'a-3', 'work', [started(0)], 2)).toEqual([{ part: 0, attempt: 1 }]);
      expect(await applyResults(db.pool, 'a-3', 'work', [success(0)], [], 2)).toEqual([{ part: 0, attempt: 1, status: 'succeeded' }]);
      expect(await setStageRunStatus(db.pool, 'a-3', 'work', 'succeeded', { owner: 2 })).toBe(true);
    });

    it('a success drops the inputs, and is numbered in success order only where a stream stage reads that order', async () => {
      await insertJob(db.pool, newJob('a-2'));
      await upsertStageRuns(db.pool, [
        { jobId: 'a-2', stageId: 'ordered', task: 't', mode: 'input', successOrder: true },
        { jobId: 'a-2', stageId: 'plain', task: 't', mode: 'input' },
      ]);
      const success = (part: number) => ({ workerId: 'w-1', result: { part, attempt: 1, status: 'succeeded' as const, outputs: [{ key: `out/${part}`, bytes: 1 }], sentAt: 1000, receivedAt: 1100, startedAt: 1200, finishedAt: 1300, bytesIn: 1, bytesOut: 1 } });
      for (const stage of ['ordered', 'plain']) {
        await markQueued(db.pool, 'a-2', stage, [2, 0, 1].map((part) => ({ part, attempt: 1, sentAt: 1000, deadlineAt: 1e12, inputs: [{ key: `in/${part}` }] })));
        for (const part of [2, 0, 1]) await applyResults(db.pool, 'a-2', stage, [success(part)], []);
      }
      expect((await succeededAfter(db.pool, 'a-2', 'ordered', 0, 10)).map((p) => p.part)).toEqual([2, 0, 1]);
      expect(await succeededAfter(db.pool, 'a-2', 'plain', 0, 10)).toEqual([]);
      const rows = await db.pool.query(`SELECT stage_id, part, inputs, inputs_key, success_seq IS NOT NULL AS numbered FROM task_runs WHERE job_id = 'a-2' ORDER BY stage_id, part`);
      expect(rows.rows).toEqual(['ordered', 'plain'].flatMap((stage_id) => [0, 1, 2].map((part) => ({ stage_id, part, inputs: null, inputs_key: null, numbered: stage_id === 'ordered' }))));
      // Upserting the run again without the flag keeps it.
      await upsertStageRun(db.pool, { jobId: 'a-2', stageId: 'ordered', task: 't', mode: 'input' });
      expect((await db.pool.query(`SELECT success_order FROM stage_runs WHERE job_id = 'a-2' AND stage_id = 'ordered'`)).rows[0].success_order).toBe(true);
    });
  });

  describe('stage runs', () => {
    it('upserts in one batch, only moves status forward, and never leaves a terminal status', async () => {
      await insertJob(db.pool, newJob('s-1'));
      await upsertStageRuns(db.pool, [
        { jobId: 's-1', stageId: 'split', task: 'claims.split', mode: 'input' },
        { jobId: 's-1', stageId: 'sum', task: 'claims.sum', mode: 'gather' },
        { jobId: 's-1', stageId: 'split', task: 'claims.split', mode: 'input', completionQueueUrl: 'http://q/1' }, // last wins
      ]);
      expect(await setStageRunStatus(db.pool, 's-1', 'split', 'running', { partsTotal: 4, manifestKey: 'm.jsonl', startedAt: new Date(1000) })).toBe(true);
      // A replayed creation must not reset it.
      await upsertStageRun(db.pool, { jobId: 's-1', stageId: 'split', task: 'claims.split', mode: 'input' });
      await upsertStageRun(db.pool, { jobId: 's-1', stageId: 'sum', task: 'claims.sum', mode: 'gather', status: 'planning', partsTotal: 1 });
      expect(
        await setStageRunStatus(db.pool, 's-1', 'split', 'succeeded', { summary: { rows: 10 }, finishedAt: new Date(5000) }),
      ).toBe(true);
      expect(await setStageRunStatus(db.pool, 's-1', 'split', 'failed', { error: 'late' })).toBe(false);
      await upsertStageRun(db.pool, { jobId: 's-1', stageId: 'split', task: 'claims.split', mode: 'input', status: 'running' });

      const runs = await getStageRuns(db.pool, 's-1');
      expect(runs).toEqual([
        {
          jobId: 's-1',
          stageId: 'split',
          status: 'succeeded',
          task: 'claims.split',
          mode: 'input',
          partsTotal: 4,
          manifestKey: 'm.jsonl',
          completionQueueUrl: 'http://q/1',
          startedAt: new Date(1000),
          finishedAt: new Date(5000),
          summary: { rows: 10 },
          error: null,
        },
        {
          jobId: 's-1',
          stageId: 'sum',
          status: 'planning',
          task: 'claims.sum',
          mode: 'gather',
          partsTotal: 1,
          manifestKey: null,
          completionQueueUrl: null,
          startedAt: null,
          finishedAt: null,
          summary: null,
          error: null,
        },
      ]);
      expect(await getStageRuns(db.pool, 'nope')).toEqual([]);
    });
  });

  describe('workers', () => {
    const base = Date.now();
    const ev = (over: Partial<WorkerEvent>): WorkerEvent => ({
      v: 1,
      type: 'worker',
      event: 'heartbeat',
      workerId: 'w-1',
      instanceId: 'host:1',
      fleet: 'wf',
      slots: 4,
      busySlots: 0,
      partsDone: 0,
      partsFailed: 0,
      bytesIn: 0,
      bytesOut: 0,
      uptimeMs: 0,
      busyMs: 0,
      at: base,
      ...over,
    });

    it('batch-upserts events: newest gauges, monotonic counters, stop is final', async () => {
      await upsertWorkerEvents(db.pool, [
        ev({ event: 'start', at: base - 5000 }),
        ev({ at: base, uptimeMs: 5000, busySlots: 3, partsDone: 10, partsFailed: 1, bytesIn: 5_000_000_000, bytesOut: 200, busyMs: 9000 }),
        ev({ at: base - 2000, uptimeMs: 3000, busySlots: 1, partsDone: 4 }), // out of order within the batch
        ev({ workerId: 'w-2', instanceId: 'host:2', event: 'start', at: base - 4000 }),
        ev({ workerId: 'w-2', instanceId: 'host:2', event: 'stop', at: base - 1000, uptimeMs: 3000, partsDone: 2 }),
      ]);
      // A late, older heartbeat: counters and gauges stay; a heartbeat after stop does not revive w-2.
      await upsertWorkerEvents(db.pool, [
        ev({ at: base - 1000, uptimeMs: 4000, busySlots: 2, partsDone: 7, slots: 8 }),
        ev({ workerId: 'w-2', instanceId: 'host:2', at: base, uptimeMs: 4000, partsDone: 1 }),
      ]);
      const workers = await listWorkers(db.pool, { fleet: 'wf' });
      expect(workers).toEqual([
        {
          workerId: 'w-1',
          fleet: 'wf',
          instanceId: 'host:1',
          slots: 4,
          busySlots: 3,
          partsDone: 10,
          partsFailed: 1,
          bytesIn: 5_000_000_000,
          bytesOut: 200,
          busyMs: 9000,
          uptimeMs: 5000,
          startedAt: new Date(base - 5000),
          lastSeenAt: new Date(base),
          stoppedAt: null,
          status: 'up',
        },
        {
          workerId: 'w-2',
          fleet: 'wf',
          instanceId: 'host:2',
          slots: 4,
          busySlots: 0,
          partsDone: 2,
          partsFailed: 0,
          bytesIn: 0,
          bytesOut: 0,
          busyMs: 0,
          uptimeMs: 4000,
          startedAt: new Date(base - 4000),
          lastSeenAt: new Date(base),
          stoppedAt: new Date(base - 1000),
          status: 'stopped',
        },
      ]);
      expect((await listWorkers(db.pool, { fleet: 'wf', liveWithinMs: 60_000 })).map((w) => w.workerId)).toEqual(['w-1']);
    });

    it('marks silent workers lost, and a newer event brings them back', async () => {
      const old = base - 10 * 60_000;
      await upsertWorkerEvents(db.pool, [ev({ workerId: 'w-3', fleet: 'lf', event: 'start', at: old }), ev({ workerId: 'w-4', fleet: 'lf', at: base })]);
      expect((await listWorkers(db.pool, { fleet: 'lf', liveWithinMs: 60_000 })).map((w) => w.workerId)).toEqual(['w-4']);
      expect(await markLostWorkers(db.pool, 'wf', 60_000)).toEqual([]);
      expect(await markLostWorkers(db.pool, 'lf', 60_000)).toEqual(['w-3']);
      expect(await markLostWorkers(db.pool, 'lf', 60_000)).toEqual([]);
      await upsertWorkerEvents(db.pool, [ev({ workerId: 'w-3', fleet: 'lf', at: old })]); // a duplicate of what it last said
      expect((await listWorkers(db.pool, { fleet: 'lf' })).map((w) => [w.workerId, w.status])).toEqual([
        ['w-4', 'up'],
        ['w-3', 'lost'],
      ]);
      await upsertWorkerEvents(db.pool, [ev({ workerId: 'w-3', fleet: 'lf', at: base + 1 })]);
      expect((await listWorkers(db.pool, { fleet: 'lf' })).map((w) => [w.workerId, w.status])).toEqual([
        ['w-3', 'up'],
        ['w-4', 'up'],
      ]);
      expect((await listWorkers(db.pool)).length).toBe(4);
    });
  });

  describe('scaling', () => {
    it('records decisions and lists them newest first', async () => {
      const d = (s: number, desired: number) => ({ fleet: 'sf', at: new Date(Date.UTC(2030, 0, 1, 0, 0, s)), visible: s * 10, inFlight: s, workers: 2, desired, previous: 2, reason: `tick ${s}` });
      const first = await recordDecision(db.pool, d(1, 3));
      await recordDecision(db.pool, d(2, 4));
      await recordDecision(db.pool, d(3, 2));
      await recordDecision(db.pool, { ...d(4, 9), fleet: 'other' });
      expect(first).toEqual({ id: expect.any(Number), ...d(1, 3) });
      const listed = await listDecisions(db.pool, 'sf', 2);
      expect(listed.map(({ id: _id, ...rest }) => rest)).toEqual([d(3, 2), d(2, 4)]);
      expect(listed[1].id).toBeGreaterThan(first.id);
      const now = await recordDecision(db.pool, { fleet: 'nf', visible: 0, inFlight: 0, workers: 0, desired: 0, previous: 1, reason: 'idle' });
      expect(Math.abs(now.at.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('upserts and reads fleets', async () => {
      const created = await upsertFleet(db.pool, { fleet: 'ff', provider: 'local', desired: 2, min: 0, max: 8 });
      expect(created).toEqual({ fleet: 'ff', provider: 'local', desired: 2, min: 0, max: 8, updatedAt: expect.any(Date) });
      await upsertFleet(db.pool, { fleet: 'ff', provider: 'asg', desired: 5, min: 1, max: 20 });
      expect(await getFleet(db.pool, 'ff')).toEqual({ fleet: 'ff', provider: 'asg', desired: 5, min: 1, max: 20, updatedAt: expect.any(Date) });
      expect(await getFleet(db.pool, 'none')).toBeUndefined();
    });
  });

  describe('progress', () => {
    it('counts parts per stage from task_runs', async () => {
      await insertJob(db.pool, newJob('p-1'));
      await upsertStageRuns(db.pool, [
        { jobId: 'p-1', stageId: 'a', task: 't.a', mode: 'input', status: 'running', partsTotal: 6 },
        { jobId: 'p-1', stageId: 'b', task: 't.b', mode: 'stream' },
      ]);
      await setStageRunStatus(db.pool, 'p-1', 'a', 'running', { startedAt: new Date(0) });
      const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
      await db.pool.query(
        `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, started_at, finished_at, bytes_in, bytes_out, success_seq)
         SELECT 'p-1', 'a', p, a, s, st, fin, bi, bo, CASE WHEN s = 'succeeded' THEN nextval('task_runs_success_seq') END
           FROM unnest($1::int[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::bigint[]) AS x(p, a, s, st, fin, bi, bo)`,
        [
          [0, 1, 2, 3, 4, 5],
          [1, 2, 3, 1, 2, 1],
          ['succeeded', 'succeeded', 'failed', 'queued', 'retry_wait', 'queued'],
          [t(5), t(3), t(4), t(9), t(6), null],
          [t(7), t(8), t(6), null, t(7), null],
          [100, 200, 300, 0, 50, 0],
          [10, 20, 0, 0, 0, 0],
        ],
      );
      expect(await jobProgress(db.pool, 'p-1')).toEqual([
        {
          stageId: 'a',
          status: 'running',
          task: 't.a',
          mode: 'input',
          partsTotal: 6,
          inFlight: 2,
          running: 1,
          retryWaiting: 1,
          succeeded: 2,
          failed: 1,
          retried: 3,
          bytesIn: 650,
          bytesOut: 30,
          // Parts 0, 1, 2 and 4 ran: 2 + 5 + 2 + 1 s.
          busyMs: 10_000,
          firstStartedAt: t(3),
          lastFinishedAt: t(8),
          startedAt: new Date(0),
          finishedAt: null,
        },
        {
          stageId: 'b',
          status: 'pending',
          task: 't.b',
          mode: 'stream',
          partsTotal: null,
          inFlight: 0,
          running: 0,
          retryWaiting: 0,
          succeeded: 0,
          failed: 0,
          retried: 0,
          bytesIn: 0,
          bytesOut: 0,
          busyMs: 0,
          firstStartedAt: null,
          lastFinishedAt: null,
          startedAt: null,
          finishedAt: null,
        },
      ]);
      expect(await jobProgress(db.pool, 'nope')).toEqual([]);
      const seq = await db.pool.query(`SELECT part FROM task_runs WHERE job_id = 'p-1' AND success_seq IS NOT NULL ORDER BY success_seq`);
      expect(seq.rows.map((x) => x.part)).toEqual([0, 1]);
    });

    it('cascades a job delete to its stage and task runs', async () => {
      await db.pool.query(`DELETE FROM jobs WHERE job_id = 'p-1'`);
      const r = await db.pool.query(
        `SELECT (SELECT count(*) FROM stage_runs WHERE job_id = 'p-1')::int AS s, (SELECT count(*) FROM task_runs WHERE job_id = 'p-1')::int AS t`,
      );
      expect(r.rows[0]).toEqual({ s: 0, t: 0 });
    });
  });

  describe('transactions', () => {
    it('commits on success and rolls back on error', async () => {
      await withTransaction(db.pool, (c) => insertJob(c, newJob('tx-ok')));
      await expect(
        withTransaction(db.pool, async (c) => {
          await insertJob(c, newJob('tx-bad'));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await getJob(db.pool, 'tx-ok'))?.jobId).toBe('tx-ok');
      expect(await getJob(db.pool, 'tx-bad')).toBeUndefined();
    });
  });
});
