import { JobNotFoundError } from '../../common/errors';
import { BatchGridClient } from '../../manager';
import { reportCommand } from '../../manager/cli/commands/report';
import { setClientFactory, type CliIo } from '../../manager/cli/render/io';
import { jobReport, type JobReport } from '../../manager/reports';
import { insertJob } from '../../store/jobs';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';

/** Captured CLI output. */
function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, columns: 120, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

/**
 * Job reports: exact figures over rows whose timings the test writes itself, then a real small
 * job run through the engine.
 */
describe('job reports', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 2 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  /**
   * Job started at T0 and finished 10 s later. Stage `a` (T0+1s → T0+6s): 100 parts, part i
   * (0-based) waits 2(i+1) ms in the queue and runs i+1 ms; parts 98 and 99 fail, 10–12 needed a
   * second attempt; even parts ran on w1, odd on w2; 10 bytes in, 5 out each. Stage `b`
   * (T0+6s → T0+7s): part 0 waited 20 ms and ran 500 ms on w1; part 1 is being sent again
   * (attempt 2) and still carries its first attempt's times, which must not count.
   */
  async function insertControlledJob(): Promise<string> {
    const db = engine.db.pool;
    const jobId = randomId('rep');
    const def = pipeline({ name: 'report-exact', stages: [{ id: 'a', task: 'noop' }, { id: 'b', task: 'noop', needs: ['a'], gather: true }] });
    await insertJob(db, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: 'default' });
    const T0 = `timestamptz '2026-01-01 00:00:00Z'`;
    const at = (msExpr: string) => `${T0} + interval '1 millisecond' * (${msExpr})`;
    await db.query(`UPDATE jobs SET status = 'succeeded', started_at = ${T0}, finished_at = ${at('10000')} WHERE job_id = $1`, [jobId]);
    await db.query(
      `INSERT INTO stage_runs (job_id, stage_id, status, task, mode, parts_total, started_at, finished_at) VALUES
         ($1, 'a', 'succeeded', 'noop', 'input', 100, ${at('1000')}, ${at('6000')}),
         ($1, 'b', 'running', 'noop', 'gather', 2, ${at('6000')}, NULL)`,
      [jobId],
    );
    // sent = T0 + 1000 + 10i; received = sent + 2(i+1); started = received + 1; finished = started + (i+1).
    await db.query(
      `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, worker_id, sent_at, received_at, started_at, finished_at, bytes_in, bytes_out)
       SELECT $1, 'a', i, CASE WHEN i BETWEEN 10 AND 12 THEN 2 ELSE 1 END,
              CASE WHEN i >= 98 THEN 'failed' ELSE 'succeeded' END,
              CASE WHEN i % 2 = 0 THEN 'w1' ELSE 'w2' END,
              ${at('1000 + 10 * i')}, ${at('1000 + 10 * i + 2 * (i + 1)')},
              ${at('1000 + 10 * i + 2 * (i + 1) + 1')}, ${at('1000 + 10 * i + 2 * (i + 1) + 1 + (i + 1)')}, 10, 5
         FROM generate_series(0, 99) AS i`,
      [jobId],
    );
    await db.query(
      `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, worker_id, sent_at, received_at, started_at, finished_at, bytes_in, bytes_out) VALUES
         ($1, 'b', 0, 1, 'succeeded', 'w1', ${at('6000')}, ${at('6020')}, ${at('6020')}, ${at('6520')}, 1000, 7),
         ($1, 'b', 1, 2, 'queued', 'w2', ${at('6900')}, ${at('6030')}, ${at('6030')}, ${at('6031')}, 0, 0)`,
      [jobId],
    );
    return jobId;
  }

  test('exact figures from rows with known timings (percentile_cont in Postgres)', async () => {
    const jobId = await insertControlledJob();
    const now = new Date('2026-01-01T00:00:08Z'); // stage b still runs: its wall time ends at the report's time
    const r = await jobReport(engine.db.pool, jobId, { slowest: 3, now });

    expect(r).toMatchObject({ jobId, pipeline: 'report-exact', status: 'succeeded', makespanMs: 10_000, parts: 102, succeeded: 99, failed: 2, retried: 4, bytesIn: 2000, bytesOut: 507 });
    expect(r.throughput).toBeCloseTo(9.9, 12);
    // Job-wide over 101 finished parts: run times 1..100 and 500; waits (sent → started) 3, 5, …, 201 and 21.
    expect(r.runTimeMs).toEqual({ p50: 51, p95: 96, p99: 100 });
    expect(r.queueWaitMs).toEqual({ p50: 101, p95: 191, p99: 199 });
    expect(r.busyMs).toBe(5050 + 500);

    const [a, b] = r.stages;
    expect(a).toMatchObject({ stageId: 'a', task: 'noop', status: 'succeeded', partsTotal: 100, parts: 100, succeeded: 98, failed: 2, retried: 3, wallMs: 5000, bytesIn: 1000, bytesOut: 500, busyMs: 5050 });
    expect(a!.throughput).toBeCloseTo(98 / 5, 12);
    expect(a!.runTimeMs!.p50).toBe(50.5);
    expect(a!.runTimeMs!.p95).toBeCloseTo(95.05, 9);
    expect(a!.runTimeMs!.p99).toBeCloseTo(99.01, 9);
    // Queue wait runs to the handler's start (received + 1 ms in these rows).
    expect(a!.queueWaitMs!.p50).toBe(102);
    expect(a!.queueWaitMs!.p95).toBeCloseTo(191.1, 9);
    expect(a!.queueWaitMs!.p99).toBeCloseTo(199.02, 9);
    expect(a!.slowest).toEqual([
      { stageId: 'a', part: 99, workerId: 'w2', runTimeMs: 100, attempt: 1, status: 'failed' },
      { stageId: 'a', part: 98, workerId: 'w1', runTimeMs: 99, attempt: 1, status: 'failed' },
      { stageId: 'a', part: 97, workerId: 'w2', runTimeMs: 98, attempt: 1, status: 'succeeded' },
    ]);
    // The queued part's stale times are left out; its row still counts as a part and as retried.
    expect(b).toMatchObject({ stageId: 'b', status: 'running', partsTotal: 2, parts: 2, succeeded: 1, failed: 0, retried: 1, wallMs: 2000, throughput: 0.5 });
    expect(b!.runTimeMs).toEqual({ p50: 500, p95: 500, p99: 500 });
    expect(b!.queueWaitMs).toEqual({ p50: 20, p95: 20, p99: 20 });
    expect(r.slowest.map((s) => [s.stageId, s.part, s.runTimeMs])).toEqual([
      ['b', 0, 500],
      ['a', 99, 100],
      ['a', 98, 99],
    ]);
    // Workers: w1 ran the even parts of a (run times 1, 3, …, 99) and b's part 0; w2 the odd parts of a.
    expect(r.workers).toEqual([
      { workerId: 'w1', parts: 51, succeeded: 50, failed: 1, busyMs: 2500 + 500, bytesIn: 1500, bytesOut: 257 },
      { workerId: 'w2', parts: 50, succeeded: 49, failed: 1, busyMs: 2550, bytesIn: 500, bytesOut: 250 },
    ]);
  });

  test('an unknown job is JobNotFoundError; a job without parts reports zeros', async () => {
    await expect(jobReport(engine.db.pool, 'no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    const jobId = randomId('rep');
    const def = pipeline({ name: 'report-empty', stages: [{ id: 'only', task: 'noop' }] });
    await insertJob(engine.db.pool, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: 'x/', workflowId: `job-${jobId}`, fleet: 'default' });
    const r = await jobReport(engine.db.pool, jobId);
    expect(r).toMatchObject({ status: 'scheduled', makespanMs: null, throughput: null, parts: 0, queueWaitMs: null, runTimeMs: null, slowest: [], workers: [] });
    expect(r.stages).toEqual([expect.objectContaining({ stageId: 'only', status: 'pending', parts: 0, wallMs: null, slowest: [] })]);
  });

  test('a real job through the engine: run times ≥ the handler sleep, workers account for every part; the CLI prints it', async () => {
    const parts = 8;
    const { jobId, handle } = await engine.submit(
      { name: 'report-real', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'sleep', task: 'test.sleep-fail', params: { sleepMs: 200 } }] },
      { 'in.txt': Array.from({ length: parts }, (_, i) => `line ${i}`).join('\n') },
    );
    expect((await handle.result()).status).toBe('succeeded');
    const r = await jobReport(engine.db.pool, jobId, { slowest: 2 });
    expect(r).toMatchObject({ status: 'succeeded', parts, succeeded: parts, failed: 0 });
    expect(r.runTimeMs!.p50).toBeGreaterThanOrEqual(200);
    expect(r.queueWaitMs!.p50).toBeGreaterThanOrEqual(0);
    expect(r.workers.reduce((n, w) => n + w.parts, 0)).toBe(parts);
    expect(r.workers.reduce((n, w) => n + w.busyMs, 0)).toBeCloseTo(r.busyMs, 6);
    expect(r.stages[0]!.wallMs).toBeGreaterThan(0);
    expect(r.makespanMs).toBeGreaterThanOrEqual(r.stages[0]!.wallMs!);
    expect(r.slowest).toHaveLength(2);
    expect(r.slowest[0]!.runTimeMs).toBeGreaterThanOrEqual(r.slowest[1]!.runTimeMs);

    const connect = () =>
      BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    const client = await connect();
    expect(await client.report(jobId, { slowest: 2, now: r.generatedAt })).toEqual(r);
    await client.close();

    const previous = setClientFactory(connect);
    try {
      const text = capture();
      expect(await reportCommand(jobId, { slowest: 1 }, text)).toBe(0);
      expect(text.stdout).toContain(`job ${jobId} (report-real): succeeded`);
      expect(text.stdout).toMatch(/^STAGE +TASK +STATUS +PARTS/m);
      expect(text.stdout).toContain('slowest 1 part\n');
      const json = capture();
      expect(await reportCommand(jobId, { json: true }, json)).toBe(0);
      const parsed = JSON.parse(json.stdout) as JobReport;
      expect(parsed.jobId).toBe(jobId);
      expect(parsed.workers.reduce((n, w) => n + w.parts, 0)).toBe(parts);
      const missing = capture();
      expect(await reportCommand('no-such-job', {}, missing)).toBe(1);
      expect(missing.stderr).toBe('batchgrid: job no-such-job not found\n');
    } finally {
      setClientFactory(previous);
    }
  });
});
