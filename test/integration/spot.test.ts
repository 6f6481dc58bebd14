import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpotNotice } from '../../worker/fleet/spot';
import { defineTask } from '../../worker/task';
import { startEngine, type TestEngine } from '../support/engine';
import { startFakeImds, type FakeImds } from '../support/fake-imds';
import { waitForValue as waitFor } from '../support/stack';

/** Takes 1.5 s (abortable), then upper-cases its lines into out.txt. */
const slowUpper = defineTask({
  name: 'spot.slow-upper',
  async run(_part, ctx) {
    await sleep(1500, undefined, { signal: ctx.signal });
    let text = '';
    for await (const line of ctx.lines()) text += `${line.toUpperCase()}\n`;
    await ctx.writeOutput('out.txt', text);
    return { chars: text.length };
  },
});

/**
 * A spot interruption on the real stack: a fake instance metadata service on 127.0.0.1 announces
 * the reclaim of one worker's instance mid-job. Its parts must start again on the other worker at
 * once (handed back with visibility 0, not left to their visibility timeout), under the same attempt
 * (no result posted for them), each counted once, with the exact output.
 */
describe('spot interruption', () => {
  let engine: TestEngine;
  let imds: FakeImds;
  const lines = Array.from({ length: 12 }, (_, i) => `spot row ${i}`);
  const common = { tasks: [slowUpper], visibilityTimeoutSeconds: 30 }; // a part left to its visibility timeout would restart only after 30 s
  const submit = () =>
    engine.submit(
      {
        name: 'spot-interruption',
        concurrency: 6,
        input: { split: { by: 'lines', size: 1 } },
        stages: [
          { id: 'upper', task: 'spot.slow-upper', timeout: '10m' },
          { id: 'total', task: 'lines.count', needs: ['upper'], gather: true },
        ],
      },
      { 'in.txt': lines.join('\n') },
    );
  const upperRows = async (jobId: string) =>
    (await engine.db.pool.query(`SELECT part, attempt, status, worker_id FROM task_runs WHERE job_id = $1 AND stage_id = 'upper' ORDER BY part`, [jobId])).rows;

  beforeAll(async () => {
    engine = await startEngine();
  }, 120_000);

  beforeEach(async () => {
    imds = await startFakeImds();
  });

  afterEach(async () => {
    await imds.close();
  });

  afterAll(async () => {
    await engine?.close();
  });

  test('a notice mid-job: the noticed worker\'s parts restart elsewhere at once, attempts unchanged, each counted once, output exact', async () => {
    const autoScalingCalls: string[] = [];
    const autoScaling = { send: async (command: object) => (autoScalingCalls.push(command.constructor.name), {}) } as unknown as AutoScalingClient;
    const [spotWorker] = await engine.startFleet(1, {
      ...common, workerId: 'spot-worker', concurrency: 3, instanceId: 'i-0123456789abcdef0',
      spot: { endpoint: imds.endpoint, pollIntervalMs: 100 },
      asg: { groupName: 'spot-group', autoScaling, pollIntervalMs: 600_000 },
    });
    let noticeAt = 0;
    const notices: SpotNotice[] = [];
    spotWorker.on('spot:notice', (n) => {
      noticeAt = Date.now();
      notices.push(n);
    });
    const aborted: number[] = [];
    const startedOnSpotAfterNotice: number[] = [];
    spotWorker.on('part:aborted', (e) => aborted.push(e.part));
    spotWorker.on('part:start', (e) => noticeAt > 0 && startedOnSpotAfterNotice.push(e.part));

    const { jobId, handle } = await submit();
    // The spot worker is busy before the other one exists, so it surely holds parts at the notice.
    await waitFor('the spot worker to run 3 parts', async () => spotWorker.stats().busySlots === 3);
    const [other] = await engine.startFleet(1, { ...common, workerId: 'other-worker', concurrency: 6 });
    const restartedAt = new Map<number, { at: number; attempt: number }>();
    other.on('part:start', (e) => e.stageId === 'upper' && noticeAt > 0 && !restartedAt.has(e.part) && restartedAt.set(e.part, { at: Date.now(), attempt: e.attempt }));

    const reclaimAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 120_000);
    imds.interrupt(reclaimAt);
    await waitFor('the spot worker to see the notice', () => notices.length > 0);
    await spotWorker.stop(); // the stop the notice began: resolves once the worker has drained
    expect(notices).toEqual([{ kind: 'interruption', action: 'terminate', at: reclaimAt.getTime() }]);
    expect(aborted.length).toBe(3);
    expect(startedOnSpotAfterNotice).toEqual([]);
    // The lifecycle action is completed on the way out.
    expect(autoScalingCalls).toContain('CompleteLifecycleActionCommand');

    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    expect(summary.stages.find((s) => s.stageId === 'upper')).toMatchObject({ partsTotal: 12, succeeded: 12, failed: 0 });

    const delays = aborted.map((part) => {
      const restart = restartedAt.get(part);
      expect([part, restart?.attempt]).toEqual([part, 1]);
      return (restart!.at - noticeAt) / 1000;
    });
    console.log(`spot notice → restart on the other worker: ${delays.map((s) => `${s.toFixed(2)} s`).join(', ')} (visibility timeout 30 s)`);
    for (const s of delays) expect(s).toBeLessThan(5);

    // Each part counted once, on its first attempt; the handed-back ones completed by the other worker only.
    const rows = await upperRows(jobId);
    expect(rows.map((r) => [r.part, r.attempt, r.status])).toEqual(lines.map((_, i) => [i, 1, 'succeeded']));
    for (const part of aborted) expect(rows[part].worker_id).toBe('other-worker');

    for (const [i, line] of lines.entries()) expect(await engine.readText(`jobs/${jobId}/stages/upper/parts/${i}/out.txt`)).toBe(`${line.toUpperCase()}\n`);
    const results = await engine.readJsonLines<{ stage: string; result: { lines: number } }>(summary.resultsKey!);
    expect(results).toEqual([expect.objectContaining({ stage: 'total', result: { lines: 12, chars: lines.join('').length } })]);
    await other.stop(); // the next test starts its own pair
  });

  test('a rebalance recommendation: the worker takes no more parts, finishes its running ones and stops', async () => {
    const [spotWorker] = await engine.startFleet(1, { ...common, workerId: 'rebalanced-worker', concurrency: 3, spot: { endpoint: imds.endpoint, pollIntervalMs: 100 } });
    const notices: SpotNotice[] = [];
    const done: number[] = [];
    const aborted: number[] = [];
    spotWorker.on('spot:notice', (n) => notices.push(n));
    spotWorker.on('part:done', (e) => done.push(e.part));
    spotWorker.on('part:aborted', (e) => aborted.push(e.part));
    const { jobId, handle } = await submit();
    await waitFor('the spot worker to run 3 parts', async () => spotWorker.stats().busySlots === 3);
    const doneBefore = spotWorker.stats().partsDone;
    await engine.startFleet(1, { ...common, workerId: 'steady-worker', concurrency: 6 });
    imds.recommendRebalance(new Date());
    await waitFor('the spot worker to see the recommendation', () => notices.length > 0);
    expect(notices[0].kind).toBe('rebalance');
    await spotWorker.stop();
    // Its 3 running parts finished there (grace 2 s > 1.5 s a part); nothing aborted, nothing new started.
    expect(aborted).toEqual([]);
    expect(done.length - doneBefore).toBe(3);
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    const rows = await upperRows(jobId);
    expect(rows.map((r) => [r.part, r.attempt, r.status])).toEqual(lines.map((_, i) => [i, 1, 'succeeded']));
    expect(rows.filter((r) => r.worker_id === 'rebalanced-worker').map((r) => r.part)).toEqual([...done].sort((a, b) => a - b));
  });
});
