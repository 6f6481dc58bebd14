import { buildJobReport, formatMs, renderReport, type JobReportRows } from '../../manager/reports';
import type { PipelineDef } from '../../pipeline/types';
import type { Job } from '../../store/jobs';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

/** Store rows of a two-stage job: `a` finished, `b` still running; the report is made at T0+8s. */
function rows(): JobReportRows {
  const definition = { name: 'demo', fleet: 'default', stages: [{ id: 'a', task: 'lines.upper' }, { id: 'b', task: 'lines.count' }] } as unknown as PipelineDef;
  const job: Job = {
    jobId: 'j1', pipelineName: 'demo', definition, status: 'running', bucket: 'bk', inputPrefix: 'jobs/j1/input/', workflowId: 'job-j1', parentJobId: null,
    fleet: 'default', priority: 1, concurrency: 100, tolerate: null, createdAt: at(0), startAt: null, startedAt: at(0), finishedAt: null, summary: null, error: null,
  };
  const stats = (stageId: string | null, parts: number, succeeded: number, failed: number, p: [number, number, number] | null, busyMs: number) => ({
    stageId, parts, succeeded, failed, retried: failed, bytesIn: parts * 1024, bytesOut: parts * 2048,
    queueWaitMs: p && { p50: p[0] / 10, p95: p[1] / 10, p99: p[2] / 10 }, runTimeMs: p && { p50: p[0], p95: p[1], p99: p[2] }, busyMs,
  });
  return {
    job,
    stageRuns: [
      { jobId: 'j1', stageId: 'a', status: 'succeeded', task: 'lines.upper', mode: 'input', partsTotal: 4, manifestKey: null, completionQueueUrl: null, startedAt: at(1000), finishedAt: at(5000), summary: null, error: null },
      { jobId: 'j1', stageId: 'b', status: 'running', task: 'lines.count', mode: 'barrier', partsTotal: 2, manifestKey: null, completionQueueUrl: null, startedAt: at(6000), finishedAt: null, summary: null, error: null },
    ],
    stats: [stats(null, 5, 4, 1, [1500, 2400, 2480], 7000), stats('a', 4, 3, 1, [1500, 2400, 2480], 6000), stats('b', 1, 1, 0, [1000, 1000, 1000], 1000)],
    slowest: [
      { stageId: 'a', part: 2, attempt: 2, status: 'failed', workerId: 'w-2', runTimeMs: 2500 },
      { stageId: 'a', part: 0, attempt: 1, status: 'succeeded', workerId: 'w-1', runTimeMs: 1500 },
      { stageId: 'b', part: 0, attempt: 1, status: 'succeeded', workerId: 'w-1', runTimeMs: 1000 },
    ],
    workers: [
      { workerId: 'w-1', parts: 3, succeeded: 3, failed: 0, busyMs: 4000, bytesIn: 3072, bytesOut: 6144 },
      { workerId: 'w-2', parts: 2, succeeded: 1, failed: 1, busyMs: 3000, bytesIn: 2048, bytesOut: 4096 },
    ],
  };
}

describe('buildJobReport', () => {
  const report = buildJobReport(rows(), { slowest: 2, now: at(8000) });

  test('spans end at the report time while running; rates are succeeded parts per second of them', () => {
    expect(report).toMatchObject({ jobId: 'j1', status: 'running', makespanMs: 8000, throughput: 0.5, parts: 5, succeeded: 4, busyMs: 7000 });
    expect(report.generatedAt).toEqual(at(8000));
    expect(report.stages.map((s) => [s.stageId, s.status, s.wallMs, s.throughput])).toEqual([
      ['a', 'succeeded', 4000, 0.75],
      ['b', 'running', 2000, 0.5],
    ]);
  });

  test('the job-wide slowest parts are the longest over every stage, at most `slowest`', () => {
    expect(report.slowest.map((s) => `${s.stageId}/${s.part}`)).toEqual(['a/2', 'a/0']);
    expect(report.stages.map((s) => s.slowest.map((p) => p.part))).toEqual([[2, 0], [0]]);
  });

  test('stages follow the pipeline; one not started yet is pending with zero counts', () => {
    const r = rows();
    r.stageRuns = r.stageRuns.slice(0, 1);
    r.stats = r.stats.filter((s) => s.stageId !== 'b');
    r.slowest = r.slowest.filter((s) => s.stageId !== 'b');
    const b = buildJobReport(r, { now: at(8000) }).stages[1];
    expect(b).toMatchObject({ stageId: 'b', task: 'lines.count', status: 'pending', partsTotal: null, parts: 0, wallMs: null, throughput: null, runTimeMs: null, slowest: [] });
  });

  test('a job that has not started has no makespan and no throughput', () => {
    const r = rows();
    r.job = { ...r.job, status: 'scheduled', startedAt: null };
    expect(buildJobReport(r, { now: at(8000) })).toMatchObject({ makespanMs: null, throughput: null });
  });
});

describe('renderReport', () => {
  test('a header, then aligned tables: stages, timings, slowest parts, workers', () => {
    expect(renderReport(buildJobReport(rows(), { slowest: 2, now: at(8000) }))).toBe(
      [
        'job j1 (demo): running',
        '  started 2026-01-01 00:00:00, finished - (UTC); makespan 8.0s so far',
        '  parts 5: 4 succeeded, 1 failed, 1 retried; throughput 0.50/s; bytes in 5.0KiB, out 10.0KiB',
        '  queue wait p50 150ms, p95 240ms, p99 248ms; run time p50 1.5s, p95 2.4s, p99 2.4s',
        '  cost: no price (fleet default has no pricePerWorkerHour)',
        '',
        'STAGE  TASK         STATUS     PARTS  SUCCEEDED  FAILED  RETRIED  WALL  THROUGHPUT  BYTES IN  BYTES OUT',
        'a      lines.upper  succeeded      4          3       1        1  4.0s      0.75/s    4.0KiB     8.0KiB',
        'b      lines.count  running      1/2          1       0        0  2.0s      0.50/s    1.0KiB     2.0KiB',
        '',
        'timings of finished parts (wait: sent → received by a worker; run: handler start → end)',
        'STAGE  WAIT P50  WAIT P95  WAIT P99  RUN P50  RUN P95  RUN P99  BUSY',
        'a         150ms     240ms     248ms     1.5s     2.4s     2.4s  6.0s',
        'b         100ms     100ms     100ms     1.0s     1.0s     1.0s  1.0s',
        '(job)     150ms     240ms     248ms     1.5s     2.4s     2.4s  7.0s',
        '',
        'slowest 2 parts',
        'STAGE  PART  WORKER  RUN TIME  ATTEMPT  STATUS',
        'a         2  w-2         2.5s        2  failed',
        'a         0  w-1         1.5s        1  succeeded',
        '',
        'workers',
        'WORKER  PARTS  SUCCEEDED  FAILED  BUSY  BYTES IN  BYTES OUT',
        'w-1         3          3       0  4.0s    3.0KiB     6.0KiB',
        'w-2         2          1       1  3.0s    2.0KiB     4.0KiB',
      ].join('\n'),
    );
  });

  test('a job without parts: dashes for unknown figures, no slowest table, no workers', () => {
    const r = rows();
    r.job = { ...r.job, status: 'scheduled', startedAt: null };
    r.stageRuns = [];
    r.stats = [];
    r.slowest = [];
    r.workers = [];
    const text = renderReport(buildJobReport(r, { now: at(0) }));
    expect(text).toContain('  started -, finished - (UTC); makespan -\n');
    expect(text).toContain('  queue wait p50 -, p95 -, p99 -; run time p50 -, p95 -, p99 -\n');
    expect(text).toContain('\na      lines.upper  pending      0          0       0        0     -           -        0B         0B\n');
    expect(text).not.toContain('slowest');
    expect(text.endsWith('\nworkers: none yet')).toBe(true);
  });

  test("a stage finished with cache counts in its summary gets the part cache table; one without is not in it", () => {
    const r = rows();
    r.stageRuns[0] = { ...r.stageRuns[0]!, summary: { succeeded: 3, cache: { hits: 3, misses: 1, savedMs: 4500 } } };
    const report = buildJobReport(r, { now: at(8000) });
    expect(report.stages.map((s) => s.cache)).toEqual([{ hits: 3, misses: 1, savedMs: 4500 }, undefined]);
    expect(renderReport(report)).toContain(
      ['', 'part cache (reused: identical task, handler version, params and input bytes as an earlier part)', 'STAGE  REUSED  RAN  RUN TIME SAVED', 'a           3    1            4.5s', ''].join('\n'),
    );
    expect(renderReport(buildJobReport(rows(), { now: at(8000) }))).not.toContain('part cache');
  });

  test('formatMs: a decimal under 10 ms, then the CLI duration format', () => {
    expect([0, 0.26, 9.94, 50.5, 999, 1500, 61_000, null, -1].map(formatMs)).toEqual(['0.0ms', '0.3ms', '9.9ms', '51ms', '999ms', '1.5s', '1m01s', '-', '-']);
  });
});
