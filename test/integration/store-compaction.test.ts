import { BatchGridClient } from '../../manager';
import { dbCompactCommand, dbPruneCommand, dbSizeCommand } from '../../manager/cli/commands/db';
import type { CliIo } from '../../manager/cli/render/io';
import { JobStateError } from '../../manager/client/errors';
import { jobReport } from '../../manager/reports';
import { compactAfterMs, startCompactionSweep } from '../../orchestrator/compaction-sweep';
import { compactFinishedJobs, compactJob, JobNotFinishedError, jobsStoreBytes, pruneJobs, storeBytesPerPartStage } from '../../store/compaction';
import { fleetUsage } from '../../store/cost';
import { insertJob } from '../../store/jobs';
import { failedPartsWithInputs } from '../../store/task-runs';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';
import { waitFor } from '../support/stack';

const PARTS = 60;
const FAILED = [3, 41];

/**
 * Compaction and pruning on the real stack: a job run through the engine with retries and failures
 * reports the same figures (report, status, fleet busy time, failed parts for a retry) before and
 * after its per-part rows are compacted; pruning deletes exactly the old finished jobs.
 */
describe('store compaction and pruning', () => {
  let engine: TestEngine;
  let client: BatchGridClient;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4 });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await engine?.close();
  });

  const rowsOf = async (jobId: string) => (await engine.db.pool.query(`SELECT stage_id, part, status FROM task_runs WHERE job_id = $1 ORDER BY stage_id, part`, [jobId])).rows;

  test('a finished job reads the same before and after compaction, and keeps only its failed parts', async () => {
    const { jobId, handle } = await engine.submit(
      {
        name: 'compact-me',
        concurrency: 16,
        input: { split: { by: 'lines', size: 1 } },
        stages: [
          // Every part fails its first attempt (a retry each); two parts always fail (tolerated).
          { id: 'flaky', task: 'test.sleep-fail', params: { sleepMs: 5, failTimes: 1, failParts: FAILED }, retry: { attempts: 2, backoff: '50ms', maxBackoff: '50ms' }, tolerate: { failedParts: FAILED.length } },
          { id: 'after', task: 'test.sleep-fail', needs: ['flaky'], params: { sleepMs: 2 } },
        ],
      },
      { 'in.txt': Array.from({ length: PARTS }, (_, i) => `line ${i}`).join('\n') },
    );
    expect((await handle.result()).status).toBe('succeeded');
    const job = (await engine.db.pool.query(`SELECT started_at, finished_at FROM jobs WHERE job_id = $1`, [jobId])).rows[0] as { started_at: Date; finished_at: Date };
    const now = new Date(job.finished_at.getTime() + 60_000);
    const middle = new Date((job.started_at.getTime() + job.finished_at.getTime()) / 2);
    const read = async () => ({
      report: await client.report(jobId, { slowest: 5, now }),
      // Fewer slowest parts than compaction keeps, through the report module on its own.
      twoSlowest: await jobReport(engine.db.pool, jobId, { slowest: 2, now }),
      progress: await client.progress(jobId),
      wholeRun: await fleetUsage(engine.db.pool, 'default', job.started_at, job.finished_at, now),
      secondHalf: await fleetUsage(engine.db.pool, 'default', middle, now, now),
      failed: await collect(failedPartsWithInputs(engine.db.pool, jobId, 'flaky')),
    });
    const before = await read();
    expect(before.report).toMatchObject({ parts: 2 * PARTS - FAILED.length, failed: FAILED.length });
    expect(before.report.stages.find((s) => s.stageId === 'flaky')).toMatchObject({ parts: PARTS, retried: PARTS, failed: FAILED.length });
    expect(before.failed.map((p) => p.part)).toEqual(FAILED);
    expect(before.wholeRun.busyMs).toBeGreaterThan(0);
    const partStages = 2 * PARTS - FAILED.length;
    const liveBytes = await jobsStoreBytes(engine.db.pool, [jobId]);
    expect(liveBytes).toMatchObject({ jobs: 1, partStages, taskRuns: partStages });

    const result = await compactJob(engine.db.pool, jobId);
    expect(result).toEqual({ jobId, compacted: true, partStages, rowsDeleted: partStages - FAILED.length, rowsKept: FAILED.length });
    expect(await rowsOf(jobId)).toEqual(FAILED.map((part) => ({ stage_id: 'flaky', part, status: 'failed' })));

    const after = await read();
    expect(after).toEqual(before);
    expect(JSON.stringify(after.report)).toBe(JSON.stringify(before.report));

    const compactBytes = await jobsStoreBytes(engine.db.pool, [jobId]);
    expect(compactBytes).toMatchObject({ jobs: 1, partStages, taskRuns: FAILED.length });
    expect(compactBytes.bytes).toBeLessThan(liveBytes.bytes);
    expect(await storeBytesPerPartStage(engine.db.pool, jobId)).toBe(compactBytes.bytesPerPartStage);
    expect(compactBytes.bytesPerPartStage!).toBeLessThanOrEqual(200);

    // Compacting again changes nothing; per-part results are refused with a reason.
    expect(await compactJob(engine.db.pool, jobId)).toEqual({ jobId, compacted: false, partStages, rowsDeleted: 0, rowsKept: FAILED.length });
    await expect(collect(client.partResults(jobId, 'after'))).rejects.toThrow(JobStateError);
    await expect(collect(client.partResults(jobId, 'after'))).rejects.toThrow(/was compacted/);

    // A retry of the compacted job runs exactly its failed parts, from the rows compaction kept.
    const retry = await client.retryFailed(jobId);
    await client.wait(retry.jobId);
    expect((await rowsOf(retry.jobId)).filter((r) => r.stage_id === 'flaky').map((r) => r.part)).toEqual(FAILED);
  }, 120_000);

  test('a running job is refused; the policy compacts only jobs finished long enough ago', async () => {
    const def = pipeline({ name: 'policy', stages: [{ id: 'a', task: 'noop' }] });
    const insert = async (status: 'running' | 'succeeded', finishedAgoMs?: number) => {
      const jobId = randomId('pol');
      await insertJob(engine.db.pool, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: 'default', status });
      if (finishedAgoMs !== undefined) await engine.db.pool.query(`UPDATE jobs SET finished_at = now() - $2 * interval '1 millisecond' WHERE job_id = $1`, [jobId, finishedAgoMs]);
      return jobId;
    };
    const running = await insert('running');
    await expect(compactJob(engine.db.pool, running)).rejects.toThrow(JobNotFinishedError);
    await expect(compactJob(engine.db.pool, running)).rejects.toThrow(`job ${running} is running: only a finished job`);
    const old = await insert('succeeded', 3_600_000);
    const recent = await insert('succeeded', 1_000);
    const done = await compactFinishedJobs(engine.db.pool, { olderThanMs: 600_000 });
    expect(done.map((r) => r.jobId)).toContain(old);
    expect(done.map((r) => r.jobId)).not.toContain(recent);
    expect(done.map((r) => r.jobId)).not.toContain(running);
    await expect(compactFinishedJobs(engine.db.pool, { olderThanMs: -1 })).rejects.toThrow('olderThanMs must be a whole number of ms ≥ 0, got -1.');
  });

  test('the orchestrator\'s sweep compacts a job once it has been finished for BATCHGRID_COMPACT_AFTER', async () => {
    expect(compactAfterMs('off')).toBeUndefined();
    expect(compactAfterMs('1h')).toBe(3_600_000);
    expect(compactAfterMs('0s')).toBe(0);
    expect(() => compactAfterMs('later')).toThrow(/^BATCHGRID_COMPACT_AFTER: invalid duration "later"/);
    const def = pipeline({ name: 'sweep', stages: [{ id: 'a', task: 'noop' }] });
    const jobId = randomId('sw');
    await insertJob(engine.db.pool, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: 'default', status: 'cancelled' });
    await engine.db.pool.query(`UPDATE jobs SET finished_at = now() - interval '2 minutes' WHERE job_id = $1`, [jobId]);
    const compactedAt = async () => (await engine.db.pool.query(`SELECT compacted_at FROM jobs WHERE job_id = $1`, [jobId])).rows[0].compacted_at as Date | null;
    const info = jest.fn();
    const stop = startCompactionSweep(engine.db.pool, 60_000, { info, warn: jest.fn() }, 50);
    try {
      await waitFor(async () => (await compactedAt()) !== null, { what: 'the sweep to compact the job' });
      expect(info).toHaveBeenCalledWith(expect.objectContaining({ jobId, partStages: 0 }), 'job compacted');
    } finally {
      await stop();
      await stop();
    }
  });

  test('prune: a dry run deletes nothing and names what it would; a prune deletes exactly the old finished jobs', async () => {
    const def = pipeline({ name: 'prune', stages: [{ id: 'a', task: 'noop' }] });
    const pool = engine.db.pool;
    // Jobs of earlier tests finished within the last minutes: a day's threshold leaves them alone.
    const make = async (status: 'running' | 'failed' | 'succeeded', finishedDaysAgo: number | null, parent?: string) => {
      const jobId = randomId('pr');
      await insertJob(pool, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: 'default', status, parentJobId: parent });
      if (finishedDaysAgo !== null) await pool.query(`UPDATE jobs SET finished_at = now() - $2 * interval '1 day' WHERE job_id = $1`, [jobId, finishedDaysAgo]);
      await pool.query(`INSERT INTO stage_runs (job_id, stage_id, status, task, mode, parts_total) VALUES ($1, 'a', 'succeeded', 'noop', 'input', 3)`, [jobId]);
      await pool.query(
        `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, sent_at, started_at, finished_at) SELECT $1, 'a', p, 1, 'succeeded', now(), now(), now() FROM generate_series(0, 2) p`,
        [jobId],
      );
      return jobId;
    };
    const oldA = await make('succeeded', 40);
    const oldB = await make('failed', 31);
    const child = await make('succeeded', 2, oldB); // a retry of oldB, younger than the threshold
    const young = await make('succeeded', 29);
    const stillRunning = await make('running', null);
    await compactJob(pool, oldA); // a compacted job is pruned too, aggregates and all
    const count = async () => (await pool.query(`SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM task_runs)::int AS rows, (SELECT count(*) FROM job_aggregates)::int AS aggregates`)).rows[0];
    const start = await count();

    const dry = await pruneJobs(pool, { olderThanMs: 30 * 86_400_000, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, jobs: 2, stageRuns: 2, taskRuns: 3, partStages: 6 });
    expect([...dry.jobIds].sort()).toEqual([oldA, oldB].sort());
    expect(dry.bytes).toBeGreaterThan(0);
    expect(await count()).toEqual(start);

    const pruned = await pruneJobs(pool, { olderThanMs: 30 * 86_400_000 });
    expect({ ...pruned, dryRun: true }).toEqual(dry);
    const left = (await pool.query(`SELECT job_id, parent_job_id FROM jobs WHERE job_id = ANY($1::text[]) ORDER BY job_id`, [[oldA, oldB, child, young, stillRunning]])).rows;
    expect(left).toEqual([child, young, stillRunning].sort().map((job_id) => ({ job_id, parent_job_id: null })));
    expect(await count()).toEqual({ jobs: start.jobs - 2, rows: start.rows - 3, aggregates: start.aggregates - 1 });
    expect((await rowsOf(young)).length).toBe(3);
    expect((await pruneJobs(pool, { olderThanMs: 30 * 86_400_000, dryRun: true })).jobs).toBe(0);
  });

  test('batchgrid db size, compact and prune print what they measured or did, and refuse what they cannot do', async () => {
    const pool = engine.db.pool;
    const def = pipeline({ name: 'cli', stages: [{ id: 'a', task: 'noop' }] });
    const jobId = randomId('cli');
    await insertJob(pool, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: 'default', status: 'failed' });
    await pool.query(`UPDATE jobs SET finished_at = now() - interval '90 days' WHERE job_id = $1`, [jobId]);
    await pool.query(`INSERT INTO stage_runs (job_id, stage_id, status, task, mode, parts_total) VALUES ($1, 'a', 'failed', 'noop', 'input', 4)`, [jobId]);
    await pool.query(
      `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, sent_at, started_at, finished_at) SELECT $1, 'a', p, 1, CASE WHEN p = 0 THEN 'failed' ELSE 'succeeded' END, now(), now(), now() FROM generate_series(0, 3) p`,
      [jobId],
    );
    const db = { pool };

    const size = capture();
    expect(await dbSizeCommand({ job: jobId }, size, db)).toBe(0);
    expect(size.stdout).toMatch(new RegExp(`^job ${jobId}: 4 part-stages, 4 task_runs rows, .* — [0-9.]+ bytes per part-stage\n`));
    expect(size.stdout).toMatch(/^ {2}task_rows +/m);
    const unknown = capture();
    expect(await dbSizeCommand({ job: 'no-such-job' }, unknown, db)).toBe(1);
    expect(unknown.stderr).toBe('batchgrid: job no-such-job not found\n');

    const compact = capture();
    expect(await dbCompactCommand({ job: jobId }, compact, db)).toBe(0);
    expect(compact.stdout).toBe(`compacted ${jobId}: 4 part-stages, 3 rows deleted, 1 kept (failed parts)\n`);
    const again = capture();
    expect(await dbCompactCommand({ job: jobId }, again, db)).toBe(0);
    expect(again.stdout).toBe(`job ${jobId} was compacted already\n`);
    const badAge = capture();
    expect(await dbCompactCommand({ olderThan: 'soon' }, badAge, db)).toBe(1);
    expect(badAge.stderr).toMatch(/^batchgrid: invalid duration "soon"/);

    const dry = capture();
    expect(await dbPruneCommand({ olderThan: '60d', dryRun: true }, dry, db)).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^would delete 1 jobs finished more than 60d ago: 1 stage runs, 1 task_runs rows, 4 part-stages, .*\n  ${jobId}\n$`));
    const json = capture();
    expect(await dbPruneCommand({ olderThan: '60d', json: true }, json, db)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: false, jobs: 1, jobIds: [jobId], taskRuns: 1, partStages: 4 });
    expect((await pool.query(`SELECT count(*)::int AS n FROM jobs WHERE job_id = $1`, [jobId])).rows[0].n).toBe(0);
  });
});

/** Captured CLI output. */
function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, columns: 120, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
