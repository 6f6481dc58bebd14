import { JobNotFoundError } from '../../common/errors';
import { compileFleetObject } from '../../grid/fleet-def';
import { BatchGridClient } from '../../manager';
import { buildApp } from '../../manager/api';
import * as s from '../../manager/api/schemas';
import { reportCommand, type ReportCommandOptions } from '../../manager/cli/commands/report';
import { setClientFactory, type CliIo } from '../../manager/cli/render/io';
import { fleetCostReport, jobReport, renderReport, type JobReport } from '../../manager/reports';
import type { PipelineDef } from '../../pipeline/types';
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
  /**
   * Cost, over rows with known timings (seconds after T1 = 2026-02-01 00:00:00Z). Fleet F costs 36 per
   * worker-hour (10 s of worker time = 0.1); fleet O has a definition without a price.
   * Workers of F: w1 up [0, 100] then stopped; w2 [20, 80], lost (ends when last heard of); w3 [200, 300]
   * stopped; w4 started at 140 and still up (counts to now). O: o1 [0, 200] stopped.
   * Job A [10, 60] on F: stage a ran 20 s [10, 30] (succeeded) and 10 s [30, 40] (waiting for a retry);
   * stage b ran 10 s [40, 50] and 10 s [50, 60] (sent again, still carrying the attempt that ran), and
   * one part is in flight (no times yet: not counted). Job B [30, 90] on F: stage x ran 20 s [30, 50]
   * and 30 s [50, 80]. Job C [100, 120] on O, with stage z on F by its own `fleet`: y ran 10 s
   * [100, 110] on O, z 10 s [105, 115] on F.
   */
  async function insertCostRows(): Promise<{ F: string; O: string; A: string; B: string; C: string }> {
    const db = engine.db.pool;
    const F = randomId('cost-f-');
    const O = randomId('cost-o-');
    const T1 = `timestamptz '2026-02-01 00:00:00Z'`;
    const at = (sec: number) => `${T1} + interval '${sec} seconds'`;
    for (const [fleet, price] of [[F, 36], [O, undefined]] as const) {
      const def = compileFleetObject({ apiVersion: 'batchgrid/v1', kind: 'Fleet', name: fleet, provider: { type: 'static', size: 2 }, ...(price === undefined ? {} : { pricePerWorkerHour: price }) });
      if (!def.ok) throw new Error(JSON.stringify(def.problems));
      await db.query(`INSERT INTO fleets (fleet, provider, desired, min, max, definition) VALUES ($1, 'static', 2, 2, 2, $2::jsonb)`, [fleet, JSON.stringify(def.fleet)]);
    }
    const workers: [string, string, number, number, number | null, string][] = [
      ['w1', F, 0, 100, 100, 'stopped'],
      ['w2', F, 20, 80, null, 'lost'],
      ['w3', F, 200, 300, 300, 'stopped'],
      ['w4', F, 140, 141, null, 'up'],
      ['o1', O, 0, 200, 200, 'stopped'],
    ];
    for (const [id, fleet, start, seen, stop, status] of workers) {
      await db.query(
        `INSERT INTO workers (worker_id, fleet, instance_id, started_at, last_seen_at, stopped_at, status)
         VALUES ($1, $2, $1, ${at(start)}, ${at(seen)}, ${stop === null ? 'NULL' : at(stop)}, $3)`,
        [`${fleet}-${id}`, fleet, status],
      );
    }
    const job = async (name: string, def: PipelineDef, start: number, end: number, runs: [string, number, string, number | null, number | null][]) => {
      const jobId = randomId(`${name}-`);
      await insertJob(db, { jobId, pipelineName: def.name, definition: def, bucket: engine.bucket, inputPrefix: `jobs/${jobId}/input/`, workflowId: `job-${jobId}`, fleet: def.fleet });
      await db.query(`UPDATE jobs SET status = 'succeeded', started_at = ${at(start)}, finished_at = ${at(end)} WHERE job_id = $1`, [jobId]);
      for (const stage of def.stages) {
        await db.query(`INSERT INTO stage_runs (job_id, stage_id, status, task, mode) VALUES ($1, $2, 'succeeded', 'noop', 'input')`, [jobId, stage.id]);
      }
      for (const [stageId, part, status, from, to] of runs) {
        await db.query(
          `INSERT INTO task_runs (job_id, stage_id, part, attempt, status, worker_id, sent_at, started_at, finished_at)
           VALUES ($1, $2, $3, $4, $5, 'w1', ${at(start)}, ${from === null ? 'NULL' : at(from)}, ${to === null ? 'NULL' : at(to)})`,
          [jobId, stageId, part, status === 'queued' ? 2 : 1, status],
        );
      }
      return jobId;
    };
    const A = await job('cost-a', pipeline({ name: 'cost-a', fleet: F, stages: [{ id: 'a', task: 'noop' }, { id: 'b', task: 'noop', needs: ['a'] }] }), 10, 60, [
      ['a', 0, 'succeeded', 10, 30],
      ['a', 1, 'retry_wait', 30, 40],
      ['b', 0, 'succeeded', 40, 50],
      ['b', 1, 'queued', 50, 60],
      ['b', 2, 'queued', null, null],
    ]);
    const B = await job('cost-b', pipeline({ name: 'cost-b', fleet: F, stages: [{ id: 'x', task: 'noop' }] }), 30, 90, [
      ['x', 0, 'succeeded', 30, 50],
      ['x', 1, 'succeeded', 50, 80],
    ]);
    // A stage's own fleet (`stage.fleet ?? pipeline.fleet`), written into the stored definition.
    const c = pipeline({ name: 'cost-c', fleet: O, stages: [{ id: 'y', task: 'noop' }, { id: 'z', task: 'noop' }] });
    const C = await job('cost-c', { ...c, stages: [c.stages[0]!, { ...c.stages[1]!, fleet: F } as PipelineDef['stages'][number]] }, 100, 120, [
      ['y', 0, 'succeeded', 100, 110],
      ['z', 0, 'succeeded', 105, 115],
    ]);
    return { F, O, A, B, C };
  }

  const T1 = Date.parse('2026-02-01T00:00:00Z');
  const t1 = (sec: number) => new Date(T1 + sec * 1000);

  test('cost per stage, per job and per fleet period: exact figures from known prices and timings', async () => {
    const { F, O, A, B, C } = await insertCostRows();
    const db = engine.db.pool;

    // Job A [10, 60]: F's workers were up 50 s (w1) + 40 s (w2) = 90 s; busy 50 s (A) + 30 s (B inside
    // the window: [30, 50] and [50, 60]) = 80 s; idle 10 s. A's share 10 × 50/80 = 6.25 s: a 3.75 s, b 2.5 s.
    const a = await jobReport(db, A);
    const window = { fleet: F, pricePerWorkerHour: 36, workers: 2, workerMs: 90_000, busyMs: 80_000, idleMs: 10_000 };
    expect(a.cost).toEqual({ busyMs: 50_000, idleShareMs: 6_250, cost: 0.5625, unpriced: [], fleets: [window] });
    expect(a.stages.map((st) => st.cost)).toEqual([
      { fleet: F, pricePerWorkerHour: 36, busyMs: 30_000, idleShareMs: 3_750, cost: 0.3375 },
      { fleet: F, pricePerWorkerHour: 36, busyMs: 20_000, idleShareMs: 2_500, cost: 0.225 },
    ]);
    // The report's timings keep to finished parts: b's re-sent part is cost, not a run time.
    expect(a.stages[1]!.busyMs).toBe(10_000);

    // Job B [30, 90]: workers 60 s + 50 s = 110 s; busy 50 s (B) + 30 s (A from 30 s on) = 80 s; idle 30 s;
    // B's share 30 × 50/80 = 18.75 s; (50 + 18.75) s at 36/h = 0.6875.
    const b = await jobReport(db, B);
    expect(b.cost).toEqual({ busyMs: 50_000, idleShareMs: 18_750, cost: 0.6875, unpriced: [], fleets: [{ ...window, workers: 2, workerMs: 110_000, busyMs: 80_000, idleMs: 30_000 }] });

    // Job C [100, 120]: z ran on F, where no worker was up in the window (w1 stopped at 100): idle 0, cost
    // 10 s = 0.1; y ran on O (o1 up 20 s, busy 10 s, idle 10 s, all y's), which has no price.
    const c = await jobReport(db, C);
    expect(c.stages.map((st) => st.cost)).toEqual([
      { fleet: O, pricePerWorkerHour: null, busyMs: 10_000, idleShareMs: 10_000, cost: null },
      { fleet: F, pricePerWorkerHour: 36, busyMs: 10_000, idleShareMs: 0, cost: 0.1 },
    ]);
    expect(c.cost).toEqual({
      busyMs: 20_000,
      idleShareMs: 10_000,
      cost: 0.1,
      unpriced: [O],
      fleets: [
        { fleet: O, pricePerWorkerHour: null, workers: 1, workerMs: 20_000, busyMs: 10_000, idleMs: 10_000 },
        { fleet: F, pricePerWorkerHour: 36, workers: 0, workerMs: 0, busyMs: 10_000, idleMs: 0 },
      ],
    });

    // F over [0, 150]: w1 100 s + w2 60 s + w4 10 s (up: to the period's end) = 170 s; busy 50 + 50 + 10 = 110 s.
    expect(await fleetCostReport(db, F, t1(0), t1(150))).toEqual({ fleet: F, pricePerWorkerHour: 36, since: t1(0), until: t1(150), workers: 3, workerMs: 170_000, busyMs: 110_000, idleMs: 60_000, cost: 1.7 });
    // [0, 250] adds w3 [200, 250] and w4 [150, 250]: 320 s. [50, 70]: w1 20 s + w2 20 s; busy A's [50, 60] + B's [50, 70].
    expect(await fleetCostReport(db, F, t1(0), t1(250))).toMatchObject({ workers: 4, workerMs: 320_000, busyMs: 110_000, idleMs: 210_000, cost: 3.2 });
    expect(await fleetCostReport(db, F, t1(50), t1(70))).toMatchObject({ workers: 2, workerMs: 40_000, busyMs: 30_000, idleMs: 10_000, cost: 0.4 });
    expect(await fleetCostReport(db, O, t1(0), t1(150))).toMatchObject({ pricePerWorkerHour: null, workers: 1, workerMs: 150_000, busyMs: 10_000, cost: null });
    expect(await fleetCostReport(db, 'never-seen', t1(0), t1(150))).toMatchObject({ pricePerWorkerHour: null, workers: 0, workerMs: 0, busyMs: 0, idleMs: 0, cost: null });

    const text = renderReport(a);
    expect(text).toContain('\n  cost 0.5625: busy 50.0s + idle share 6.2s; price per worker-hour: ' + `${F} 36\n`);
    expect(text).toMatch(new RegExp(`\\nb +${F} +36 +20\\.0s +2\\.5s +0\\.2250\\n`));
    expect(renderReport(await jobReport(db, (await insertControlledJob())))).toContain('\n  cost: no price (fleet default has no pricePerWorkerHour)\n');
  });

  test('the API and the CLI show cost: GET /v1/fleets/{fleet}/cost needs the token, checks its period', async () => {
    const { F, A } = await insertCostRows();
    const connect = () =>
      BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    const client = await connect();
    const token = `cost-token-${randomId()}-${randomId()}`;
    const app = buildApp({ client, token });
    const auth = { authorization: `Bearer ${token}` };
    try {
      const url = `/v1/fleets/${F}/cost?since=2026-02-01T00:00:00Z&until=2026-02-01T00:02:30Z`;
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
      const ok = await app.inject({ method: 'GET', url, headers: auth });
      expect(ok.statusCode).toBe(200);
      expect(s.FleetCostBody.parse(ok.json())).toEqual({ fleet: F, pricePerWorkerHour: 36, since: '2026-02-01T00:00:00.000Z', until: '2026-02-01T00:02:30.000Z', workers: 3, workerMs: 170_000, busyMs: 110_000, idleMs: 60_000, cost: 1.7 });
      const bad = await app.inject({ method: 'GET', url: `/v1/fleets/${F}/cost?since=2026-02-01T00:02:30Z&until=2026-02-01T00:00:00Z`, headers: auth });
      expect([bad.statusCode, bad.json()]).toEqual([400, { error: 'invalid request', problems: [{ path: 'query.until', message: 'must be after since' }] }]);
      const missing = await app.inject({ method: 'GET', url: `/v1/fleets/${F}/cost`, headers: auth });
      expect(missing.statusCode).toBe(400);
      const report = await app.inject({ method: 'GET', url: `/v1/jobs/${A}/report`, headers: auth });
      expect(s.ReportBody.parse(report.json()).cost).toMatchObject({ busyMs: 50_000, idleShareMs: 6_250, cost: 0.5625 });
      expect(report.json().stages.map((st: { cost: { cost: number } }) => st.cost.cost)).toEqual([0.3375, 0.225]);
    } finally {
      await app.close();
      await client.close();
    }

    const previous = setClientFactory(connect);
    try {
      const text = capture();
      expect(await reportCommand(undefined, { fleet: F, since: '2026-02-01T00:00:00Z', until: '2026-02-01T00:02:30Z' }, text)).toBe(0);
      expect(text.stdout).toBe(
        [`fleet ${F}: 2026-02-01 00:00:00 → 2026-02-01 00:02:30 (UTC)`, "  3 workers up, worker time 2m50s: busy 1m50s (every job's parts), idle 1m00s", '  cost 1.7000: (busy + idle) × 36 per worker-hour', ''].join('\n'),
      );
      const json = capture();
      expect(await reportCommand(undefined, { fleet: F, since: '2026-02-01T00:00:50Z', until: '2026-02-01T00:01:10Z', json: true }, json)).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ fleet: F, workerMs: 40_000, busyMs: 30_000, idleMs: 10_000, cost: 0.4 });
      const job = capture();
      expect(await reportCommand(A, {}, job)).toBe(0);
      expect(job.stdout).toContain('  cost 0.5625: busy 50.0s');
      for (const [args, message] of [
        [[undefined, { fleet: F }], 'batchgrid: --fleet needs --since: the start of the period (an ISO time, or -DURATION like -24h).\n'],
        [[A, { fleet: F, since: '-1h' }], `batchgrid: give a job or --fleet, not both (got job ${A} and --fleet ${F}).\n`],
        [[undefined, { fleet: F, since: 'yesterday' }], 'batchgrid: invalid --since "yesterday": use an ISO time like 2026-01-31T14:00:00Z, or -DURATION before now like -24h, -7d\n'],
        [[undefined, { fleet: F, since: '-1h', until: '-2h' }], expect.stringMatching(/^batchgrid: until \(.*\) must be after since \(.*\)\.\n$/)],
        [[undefined, {}], "batchgrid: give a job id, or --fleet F --since T for a fleet's cost.\n"],
      ] as const) {
        const err = capture();
        const [jobId, opts] = args as [string | undefined, ReportCommandOptions];
        expect(await reportCommand(jobId, opts, err)).toBe(1);
        expect(err.stderr).toEqual(message);
      }
    } finally {
      setClientFactory(previous);
    }
  });
});
