import type { JobProgressView, StageProgressView } from '../../manager/client/progress';
import { stageView } from '../../manager/client/progress';
import { countsText, jobLine, percentText, progressBar, progressLine, renderProgress, stageTable } from '../../manager/cli/render/progress';
import type { StageProgress } from '../../store/progress';
import type { StageRun } from '../../store/stage-runs';

const t0 = Date.parse('2026-01-31T12:00:00Z');

function counts(over: Partial<StageProgress> = {}): StageProgress {
  return { stageId: 's', status: 'running', task: 'noop', mode: 'input', partsTotal: 10, inFlight: 2, running: 1, retryWaiting: 0, succeeded: 3, failed: 1, retried: 1, bytesIn: 0, bytesOut: 0, firstStartedAt: null, lastFinishedAt: null, ...over };
}

function run(over: Partial<StageRun> = {}): StageRun {
  return { jobId: 'j', stageId: 's', status: 'running', task: 'noop', mode: 'input', partsTotal: 10, manifestKey: null, completionQueueUrl: null, startedAt: new Date(t0), finishedAt: null, summary: null, error: null, ...over };
}

function view(stages: StageProgressView[], over: Partial<JobProgressView> = {}): JobProgressView {
  return { jobId: 'j1', pipeline: 'p', status: 'running', createdAt: new Date(t0), startAt: null, startedAt: new Date(t0), finishedAt: null, error: null, stages, ...over };
}

describe('stageView: throughput and ETA', () => {
  test('rate is parts done over the elapsed time; ETA is what remains at that rate', () => {
    const s = stageView({ id: 's', task: 'noop' }, counts(), run(), t0 + 8000);
    expect(s).toMatchObject({ done: 4, inFlight: 2, elapsedMs: 8000, throughput: 0.5, etaMs: 12_000 });
  });

  test('before anything is done the rate and ETA are unknown; a stage not started is pending', () => {
    expect(stageView({ id: 's', task: 'noop' }, counts({ succeeded: 0, failed: 0 }), run(), t0 + 1000)).toMatchObject({ throughput: null, etaMs: null });
    expect(stageView({ id: 'later', task: 'lines.count' }, undefined, undefined, t0)).toMatchObject({ stageId: 'later', task: 'lines.count', status: 'pending', partsTotal: null, done: 0, elapsedMs: 0, throughput: null, etaMs: null });
  });

  test('a finished stage is measured up to its end and has no ETA left', () => {
    const s = stageView({ id: 's', task: 'noop' }, counts({ succeeded: 10, failed: 0, inFlight: 0 }), run({ status: 'succeeded', finishedAt: new Date(t0 + 5000) }), t0 + 60_000);
    expect(s).toMatchObject({ elapsedMs: 5000, throughput: 2, etaMs: 0 });
  });

  test('an unknown total (a stream stage) gives no ETA', () => {
    expect(stageView({ id: 's', task: 'noop' }, counts({ partsTotal: null }), run({ partsTotal: null }), t0 + 4000).etaMs).toBeNull();
  });
});

describe('bars and lines', () => {
  test('progressBar fills in proportion and never overflows', () => {
    expect(progressBar(0, 10, 10)).toBe('░'.repeat(10));
    expect(progressBar(5, 10, 10)).toBe('█'.repeat(5) + '░'.repeat(5));
    expect(progressBar(12, 10, 4)).toBe('████');
    expect(progressBar(3, null, 4)).toBe('░░░░');
    expect(progressBar(1, 1, 0)).toBe('');
  });

  test('percent and counts texts', () => {
    const s = stageView({ id: 's', task: 'noop' }, counts(), run(), t0 + 8000);
    expect(percentText(s)).toBe('40%');
    expect(percentText({ done: 0, partsTotal: null })).toBe('-');
    expect(percentText({ done: 0, partsTotal: 0 })).toBe('100%');
    expect(countsText(s)).toBe('1 queued, 1 running, 1 failed, 1 retried');
  });

  test('the plain line holds status and counts only, so it changes only when they do', () => {
    const a = stageView({ id: 's', task: 'noop' }, counts(), run(), t0 + 1000);
    const b = stageView({ id: 's', task: 'noop' }, counts(), run(), t0 + 9000);
    expect(progressLine('j1', a)).toBe('j1 s: running 4/10 done (1 queued, 1 running, 1 failed, 1 retried)');
    expect(progressLine('j1', b)).toBe(progressLine('j1', a));
  });

  test('the live screen: a header and one bar line per stage, within the terminal width', () => {
    const stages = [stageView({ id: 'split', task: 'noop' }, counts(), run(), t0 + 8000), stageView({ id: 'reduce', task: 'noop' }, undefined, undefined, t0 + 8000)];
    const lines = renderProgress(view(stages), 120, t0 + 8000);
    expect(lines[0]).toBe('job j1 (p): running after 8.0s');
    expect(lines[1]).toMatch(/^split {3}running {3}█+░+ +4\/10 {2}40% +0\.50\/s {2}eta 12\.0s +1 queued, 1 running, 1 failed, 1 retried$/);
    expect(lines[2]).toMatch(/^reduce {2}pending {3}░+ +0\/\? {4}- +- +eta - *$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    // A narrow terminal gets the same lines, cut to fit.
    for (const line of renderProgress(view(stages), 60, t0 + 8000)) expect(line.length).toBeLessThanOrEqual(60);
  });

  test('job line and status table', () => {
    const stages = [stageView({ id: 'split', task: 'noop' }, counts({ succeeded: 9, failed: 1, inFlight: 0, running: 0 }), run({ status: 'failed', finishedAt: new Date(t0 + 10_000) }), t0)];
    const done = view(stages, { status: 'failed', finishedAt: new Date(t0 + 10_000), error: 'stage split failed' });
    expect(jobLine(done)).toBe('j1: failed after 10.0s - stage split failed');
    expect(jobLine(view([], { status: 'scheduled', startedAt: null, startAt: new Date(t0) }))).toBe('j1: scheduled (starts 2026-01-31T12:00:00.000Z)');
    expect(stageTable(done).split('\n')).toEqual([
      'STAGE  TASK  STATUS  PARTS  DONE  QUEUED  RUNNING  SUCCEEDED  FAILED  RETRIED  RATE   ELAPSED  ETA',
      'split  noop  failed     10  100%       0        0          9       1        1  1.0/s  10.0s      -',
    ]);
  });
});
