import { SEARCH_ATTRIBUTE_KEYS as SA } from '../../common/search-attributes';
import { startEngine, type TestEngine } from '../support/engine';

/** End-to-end runs of the engine on the real stack: Temporal, SQS, S3 and Postgres. */
describe('engine end to end', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  const rows = async (jobId: string, stageId: string) =>
    (await engine.db.pool.query(`SELECT part, status, attempt, result FROM task_runs WHERE job_id = $1 AND stage_id = $2 ORDER BY part`, [jobId, stageId])).rows;

  test('map → stream → gather over real input produces exactly the expected output', async () => {
    const a = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const b = ['one', 'two', 'three'];
    const { jobId, handle } = await engine.submit(
      {
        name: 'three-stage',
        concurrency: 3,
        input: { split: { by: 'lines', size: 2 } },
        stages: [
          { id: 'upper', task: 'lines.upper' },
          { id: 'count', task: 'lines.count', needs: ['upper'], chain: 'stream' },
          { id: 'total', task: 'lines.count', needs: ['count'], gather: true },
        ],
      },
      { 'a.txt': `${a.join('\n')}\n`, 'b.txt': b.join('\n') },
    );
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    expect(summary.stages.map((s) => [s.stageId, s.partsTotal, s.succeeded, s.failed])).toEqual(
      expect.arrayContaining([
        ['upper', 5, 5, 0],
        ['count', 5, 5, 0],
        ['total', 1, 1, 0],
      ]),
    );
    // Parts 0..2 are a.txt's 2+2+1 lines, 3..4 b.txt's 2+1 (b has no final newline).
    const upper = await rows(jobId, 'upper');
    expect(upper.map((r) => r.result.lines)).toEqual([2, 2, 1, 2, 1]);
    expect(await engine.readText(`jobs/${jobId}/stages/upper/parts/1/out.txt`)).toBe('GAMMA\nDELTA\n');
    expect(await engine.readText(`jobs/${jobId}/stages/upper/parts/4/out.txt`)).toBe('THREE\n');
    const counts = await rows(jobId, 'count');
    expect(counts.map((r) => r.result.lines)).toEqual([2, 2, 1, 2, 1]);
    // The gather part reads the five count files, one line each.
    const results = await engine.readJsonLines<{ stage: string; part: number; result: { lines: number } }>(summary.resultsKey!);
    expect(results).toEqual([expect.objectContaining({ stage: 'total', part: 0, result: { lines: 5, chars: 5 } })]);
    // The workflow kept its search attributes current up to the end.
    const attributes = (await handle.describe()).typedSearchAttributes;
    expect([attributes.get(SA.pipeline), attributes.get(SA.status), attributes.get(SA.fleet)]).toEqual(['three-stage', 'succeeded', 'default']);
  });

  test('a job starts with its search attributes: a delayed one is found as scheduled', async () => {
    const { handle } = await engine.submit({ name: 'later', stages: [{ id: 'only', task: 'noop' }] }, { 'a.txt': 'x\n' }, { startAt: new Date(Date.now() + 3_600_000) });
    try {
      const attributes = (await handle.describe()).typedSearchAttributes;
      expect([attributes.get(SA.pipeline), attributes.get(SA.status), attributes.get(SA.fleet)]).toEqual(['later', 'scheduled', 'default']);
    } finally {
      await handle.terminate('test done');
    }
  });

  test('a stream-chained stage runs its parts while its upstream is still running', async () => {
    const { jobId, handle } = await engine.submit(
      {
        name: 'streaming',
        concurrency: 2,
        input: { split: { by: 'lines', size: 1 } },
        stages: [
          { id: 'slow', task: 'test.sleep-fail', params: { sleepMs: 400 } },
          { id: 'next', task: 'noop', needs: ['slow'], chain: 'stream' },
        ],
      },
      { 'in.txt': Array.from({ length: 8 }, (_, i) => `row ${i}`).join('\n') },
    );
    const summary = await handle.result();
    expect(summary.stages.map((s) => [s.stageId, s.succeeded])).toEqual(expect.arrayContaining([['slow', 8], ['next', 8]]));
    const upstreamEnd = (await engine.db.pool.query(`SELECT finished_at FROM stage_runs WHERE job_id = $1 AND stage_id = 'slow'`, [jobId])).rows[0].finished_at;
    const downstream = (await engine.db.pool.query(`SELECT min(finished_at) AS first FROM task_runs WHERE job_id = $1 AND stage_id = 'next'`, [jobId])).rows[0].first;
    // The first downstream part finished before the last upstream part did.
    expect(downstream.getTime()).toBeLessThan(upstreamEnd.getTime());
  });

  test('a diamond DAG runs b and c concurrently and d after both', async () => {
    const { jobId, handle } = await engine.submit(
      {
        name: 'diamond',
        concurrency: 4,
        stages: [
          { id: 'a', task: 'lines.upper' },
          { id: 'b', task: 'test.sleep-fail', params: { sleepMs: 1500 }, needs: ['a'] },
          { id: 'c', task: 'test.sleep-fail', params: { sleepMs: 1500 }, needs: ['a'] },
          { id: 'd', task: 'noop', needs: ['b', 'c'] },
        ],
      },
      { 'x.txt': 'x\n', 'y.txt': 'y\n' },
    );
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    const runs = (await engine.db.pool.query(`SELECT stage_id, started_at, finished_at FROM stage_runs WHERE job_id = $1`, [jobId])).rows;
    const at = Object.fromEntries(runs.map((r) => [r.stage_id, { start: r.started_at.getTime(), end: r.finished_at.getTime() }]));
    // b and c overlap in time; d starts after both ended.
    expect(at.b.start).toBeLessThan(at.c.end);
    expect(at.c.start).toBeLessThan(at.b.end);
    expect(at.d.start).toBeGreaterThanOrEqual(Math.max(at.b.end, at.c.end));
    expect(summary.stages.find((s) => s.stageId === 'd')).toMatchObject({ partsTotal: 2, succeeded: 2 });
  });

  test('two jobs at once share the fleet and both finish', async () => {
    const spec = (name: string) => ({ name, concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 200 } }] });
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i}`).join('\n');
    const [one, two] = await Promise.all([engine.submit(spec('job-one'), { 'in.txt': lines }), engine.submit(spec('job-two'), { 'in.txt': lines })]);
    const [s1, s2] = await Promise.all([one.handle.result(), two.handle.result()]);
    expect([s1.status, s2.status]).toEqual(['succeeded', 'succeeded']);
    expect([s1.stages[0].succeeded, s2.stages[0].succeeded]).toEqual([12, 12]);
    // Both jobs' parts overlapped on the fleet rather than running one job after the other.
    const span = async (jobId: string) =>
      (await engine.db.pool.query(`SELECT min(started_at) AS a, max(finished_at) AS b FROM task_runs WHERE job_id = $1`, [jobId])).rows[0];
    const [x, y] = [await span(one.jobId), await span(two.jobId)];
    expect(x.a.getTime()).toBeLessThan(y.b.getTime());
    expect(y.a.getTime()).toBeLessThan(x.b.getTime());
  });
});
