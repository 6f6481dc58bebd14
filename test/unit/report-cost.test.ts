import { buildJobCost, buildJobReport, fleetCost, fleetWindow, formatCost, idleShare, priced, renderFleetCost, renderReport, stageFleet, type JobReportRows } from '../../manager/reports';
import type { PipelineDef } from '../../pipeline/types';
import type { Job } from '../../store/jobs';

/** Stages a and b on the pipeline's fleet `cpu`; c names its own fleet `gpu`. */
const definition = {
  name: 'demo',
  fleet: 'cpu',
  stages: [{ id: 'a', task: 'noop' }, { id: 'b', task: 'noop' }, { id: 'c', task: 'noop', fleet: 'gpu' }],
} as unknown as PipelineDef;

/** cpu during the job: 2 workers up 20 s, busy 15 s (9 s of them this job's), idle 5 s; 36 per worker-hour. */
const cpu = fleetWindow('cpu', { workers: 2, workerMs: 20_000, busyMs: 15_000 }, 36);
/** gpu: busy more than its workers were seen up (a worker not reporting): idle 0; no price. */
const gpu = fleetWindow('gpu', { workers: 1, workerMs: 1_000, busyMs: 2_000 }, null);

describe('cost (pure)', () => {
  test('a stage runs on its own fleet, else the pipeline’s', () => {
    expect(['a', 'c', 'unknown'].map((id) => stageFleet(definition, id))).toEqual(['cpu', 'gpu', 'cpu']);
  });

  test('idle = worker time − busy, never below 0; a share is in proportion to busy time, at most all of it', () => {
    expect([cpu.idleMs, gpu.idleMs]).toEqual([5_000, 0]);
    expect([idleShare(6_000, cpu), idleShare(3_000, cpu), idleShare(30_000, cpu), idleShare(0, cpu)]).toEqual([2_000, 1_000, 5_000, 0]);
    expect(idleShare(10, fleetWindow('x', { workers: 1, workerMs: 1_000, busyMs: 0 }, 1))).toBe(0);
    expect([priced(3_600_000, 2.5), priced(90_000, 36), priced(1_000, null)]).toEqual([2.5, 0.9, null]);
  });

  test('per stage and per job: (busy + idle share) / 1 h × price; an unpriced fleet is listed, not counted', () => {
    const { stages, job } = buildJobCost(definition, ['a', 'b', 'c'], [{ stageId: 'a', busyMs: 6_000 }, { stageId: 'b', busyMs: 3_000 }, { stageId: 'c', busyMs: 2_000 }], [cpu, gpu]);
    expect(Object.fromEntries(stages)).toEqual({
      a: { fleet: 'cpu', pricePerWorkerHour: 36, busyMs: 6_000, idleShareMs: 2_000, cost: 0.08 },
      b: { fleet: 'cpu', pricePerWorkerHour: 36, busyMs: 3_000, idleShareMs: 1_000, cost: 0.04 },
      c: { fleet: 'gpu', pricePerWorkerHour: null, busyMs: 2_000, idleShareMs: 0, cost: null },
    });
    expect(job).toEqual({ busyMs: 11_000, idleShareMs: 3_000, cost: 0.12, unpriced: ['gpu'], fleets: [cpu, gpu] });
  });

  test('no price anywhere: no cost; a fleet without a window (job not started) has zeros', () => {
    const { stages, job } = buildJobCost(definition, ['a'], [], []);
    expect(stages.get('a')).toEqual({ fleet: 'cpu', pricePerWorkerHour: null, busyMs: 0, idleShareMs: 0, cost: null });
    expect(job).toMatchObject({ busyMs: 0, idleShareMs: 0, cost: null, unpriced: ['cpu'] });
  });

  test('a fleet over a period: all its worker time, busy or idle', () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const until = new Date('2026-01-01T01:00:00Z');
    expect(fleetCost('cpu', since, until, { workers: 3, workerMs: 7_200_000, busyMs: 5_400_000 }, 0.5)).toEqual({
      fleet: 'cpu', pricePerWorkerHour: 0.5, since, until, workers: 3, workerMs: 7_200_000, busyMs: 5_400_000, idleMs: 1_800_000, cost: 1,
    });
    expect(fleetCost('gpu', since, until, { workers: 1, workerMs: 1_000, busyMs: 2_000 }, 36)).toMatchObject({ idleMs: 0, cost: 0.02 });
  });
});

describe('rendering cost', () => {
  const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms);
  const job: Job = {
    jobId: 'j1', pipelineName: 'demo', definition, status: 'succeeded', bucket: 'bk', inputPrefix: 'jobs/j1/input/', workflowId: 'job-j1', parentJobId: null,
    fleet: 'cpu', priority: 1, concurrency: 100, tolerate: null, createdAt: at(0), startAt: null, startedAt: at(0), finishedAt: at(10_000), summary: null, error: null,
  };
  const rows = (fleets = [cpu, gpu]): JobReportRows => ({
    job, stageRuns: [], stats: [], slowest: [], workers: [],
    cost: { stageBusy: [{ stageId: 'a', busyMs: 6_000 }, { stageId: 'b', busyMs: 3_000 }, { stageId: 'c', busyMs: 2_000 }], fleets },
  });

  test('a cost line in the header, then a table per stage and the fleets while the job ran', () => {
    const text = renderReport(buildJobReport(rows(), { now: at(10_000) }));
    expect(text).toContain('\n  cost 0.1200: busy 11.0s + idle share 3.0s; price per worker-hour: cpu 36; not counted: fleet gpu (no price)\n');
    expect(text).toContain(
      [
        '',
        'cost = (busy + idle share) × price per worker-hour; idle share: the fleet\'s idle time while the job ran, by busy time',
        'STAGE  FLEET  PRICE/H  BUSY  IDLE SHARE      COST',
        'a      cpu         36  6.0s        2.0s    0.0800',
        'b      cpu         36  3.0s        1.0s    0.0400',
        'c      gpu          -  2.0s       0.0ms  no price',
        '',
        'fleets while the job ran',
        'FLEET  WORKERS  WORKER TIME  BUSY (ALL JOBS)   IDLE',
        'cpu          2        20.0s            15.0s   5.0s',
        'gpu          1         1.0s             2.0s  0.0ms',
        '',
      ].join('\n'),
    );
  });

  test('without any price: one line, no cost tables', () => {
    const text = renderReport(buildJobReport(rows([fleetWindow('cpu', cpu, null), gpu]), { now: at(10_000) }));
    expect(text).toContain('\n  cost: no price (fleets cpu, gpu have no pricePerWorkerHour)\n');
    expect(text).not.toContain('IDLE SHARE');
  });

  test('a fleet over a period', () => {
    const c = fleetCost('cpu', at(0), at(3_600_000), { workers: 3, workerMs: 7_200_000, busyMs: 5_400_000 }, 0.5);
    expect(renderFleetCost(c)).toBe(
      ['fleet cpu: 2026-01-01 00:00:00 → 2026-01-01 01:00:00 (UTC)', "  3 workers up, worker time 2h00m: busy 1h30m (every job's parts), idle 30m00s", '  cost 1.0000: (busy + idle) × 0.5 per worker-hour'].join('\n'),
    );
    expect(renderFleetCost({ ...c, pricePerWorkerHour: null, cost: null })).toContain('\n  cost: no price (fleet cpu has no pricePerWorkerHour)');
    expect([formatCost(0.000049), formatCost(12.5), formatCost(null)]).toEqual(['0.0000', '12.5000', 'no price']);
  });
});
