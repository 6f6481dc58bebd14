import type { JobDetails } from '../../manager/client';
import { stageView } from '../../manager/client/progress';
import { statusText } from '../../manager/cli/commands/status';
import type { PipelineDef } from '../../pipeline/types';
import type { StageRun } from '../../store/stage-runs';

const t0 = new Date('2026-01-31T12:00:00Z');

const run = (stageId: string, summary: unknown): StageRun => ({
  jobId: 'j1', stageId, status: 'succeeded', task: 'noop', mode: 'input', partsTotal: 4, manifestKey: null, completionQueueUrl: null, startedAt: t0, finishedAt: new Date(t0.getTime() + 5000), summary, error: null,
});

/** A finished job of two stages, `clean` with `cache: true` (its counts in its stage run's summary), `sum` without. */
function job(runs: StageRun[]): JobDetails {
  const definition = { name: 'month-end', concurrency: 8, stages: [{ id: 'clean', task: 'noop' }, { id: 'sum', task: 'noop' }] } as unknown as PipelineDef;
  return {
    jobId: 'j1', pipelineName: 'month-end', definition, status: 'succeeded', bucket: 'b', inputPrefix: 'jobs/j1/input/', workflowId: 'job-j1', parentJobId: null, fleet: 'default',
    priority: 1, concurrency: 8, tolerate: null, createdAt: t0, startAt: null, startedAt: t0, finishedAt: new Date(t0.getTime() + 9000), summary: null, error: null, stages: runs,
  };
}

const progressOf = (j: JobDetails) => ({
  jobId: j.jobId, pipeline: j.pipelineName, status: j.status, createdAt: t0, startAt: null, startedAt: j.startedAt, finishedAt: j.finishedAt, error: null,
  stages: j.definition.stages.map((s) => stageView(s, undefined, j.stages.find((r) => r.stageId === s.id), t0.getTime() + 9000)),
});

describe('batchgrid status: part cache counts', () => {
  test('a stage that finished with cache counts gets a line of reused, ran and run time saved; a stage without none', () => {
    const j = job([run('clean', { cache: { hits: 3, misses: 1, savedMs: 2500 } }), run('sum', { succeeded: 1 })]);
    const text = statusText(j, progressOf(j));
    expect(text).toContain('part cache (reused: identical task, handler version, params and input bytes as an earlier part)');
    expect(text).toMatch(/\nSTAGE +REUSED +RAN +RUN TIME SAVED\nclean +3 +1 +2\.5s$/);
    expect(text).not.toMatch(/\nsum +\d/);
  });

  test('without a cached stage there is no part cache table', () => {
    const j = job([run('clean', null), run('sum', { succeeded: 1 })]);
    expect(statusText(j, progressOf(j))).not.toContain('part cache');
  });
});
