import { pipeline, useEngineWithClient } from '../support/engine';

/**
 * The heterogeneous grid on the real stack: stages on the fleets they name, and parts that wait
 * far longer in the queue than their timeout behind a one-slot fleet without ever being timed out.
 */
describe('the grid: fleets per stage, deadlines from the start', () => {
  const t = useEngineWithClient();

  const rows = async (jobId: string) =>
    (await t.engine.db.pool.query(`SELECT stage_id, part, attempt, status, worker_id, extract(epoch from started_at - sent_at) * 1000 AS wait_ms FROM task_runs WHERE job_id = $1 ORDER BY stage_id, part`, [jobId])).rows;

  test('a pipeline whose stages run on two fleets: each fleet\'s workers ran only its stages\' parts', async () => {
    const small = await t.engine.startFleet(1, { fleet: 'small', concurrency: 2 });
    const big = await t.engine.startFleet(2, { fleet: 'big', concurrency: 2 });
    const def = pipeline({
      name: 'two-fleets', fleet: 'small', concurrency: 8, input: { split: { by: 'lines', size: 1 } },
      stages: [
        { id: 'probe', task: 'lines.count' },
        { id: 'transcode', task: 'lines.upper', fleet: 'big', needs: ['probe'], chain: 'barrier' },
      ],
    });
    expect(def.stages.map((s) => s.fleet)).toEqual(['small', 'big']);
    const { jobId, handle } = await t.engine.submit(def, { 'in.txt': Array.from({ length: 12 }, (_, i) => `clip ${i}`).join('\n') });
    await handle.result();
    const ran = await rows(jobId);
    const smallIds = new Set(small.map((w) => w.workerId));
    const bigIds = new Set(big.map((w) => w.workerId));
    const byStage = (stage: string) => ran.filter((r) => r.stage_id === stage);
    expect(byStage('probe')).toHaveLength(12);
    expect(byStage('transcode')).toHaveLength(12);
    for (const r of byStage('probe')) expect(smallIds.has(r.worker_id)).toBe(true);
    for (const r of byStage('transcode')) expect(bigIds.has(r.worker_id)).toBe(true);
    // The workers' own statistics agree: the small fleet did the probes, the big one the transcodes.
    expect(small.reduce((n, w) => n + w.stats().partsDone, 0)).toBe(12);
    expect(big.reduce((n, w) => n + w.stats().partsDone, 0)).toBe(12);
    process.stdout.write(`two fleets: probe on ${[...new Set(byStage('probe').map((r) => r.worker_id))].length} small worker(s), transcode on ${[...new Set(byStage('transcode').map((r) => r.worker_id))].length} big worker(s)\n`);
    await Promise.all([...small, ...big].map((w) => w.stop()));
  });

  test('long parts behind a one-slot fleet: 30 parts of 2 s with a 3 s timeout all succeed at attempt 1, the last waiting over 40 s', async () => {
    const [worker] = await t.engine.startFleet(1, { fleet: 'narrow', concurrency: 1 });
    const def = pipeline({
      name: 'narrow', fleet: 'narrow', concurrency: 30, input: { split: { by: 'lines', size: 1 } },
      stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 2000 }, timeout: '3s', retry: { attempts: 2 } }],
    });
    // The lost-message slack (past the timeout, counted from a part's start) is 5 s. The queue may
    // hold an hour of work ahead of the worker (queueAheadMs), so all 30 parts wait in it, not in the orchestrator.
    const { jobId, handle } = await t.engine.submit(def, { 'in.txt': Array.from({ length: 30 }, (_, i) => `p${i}`).join('\n') }, { options: { overdueSlackMs: 5000, queueAheadMs: 3_600_000 } });
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ partsTotal: 30, succeeded: 30, failed: 0, retried: 0 });
    const ran = await rows(jobId);
    expect(ran.map((r) => r.attempt)).toEqual(Array(30).fill(1));
    const report = await t.client.report(jobId);
    const wait = report.stages[0].queueWaitMs!;
    const longest = Math.max(...ran.map((r) => Number(r.wait_ms)));
    process.stdout.write(`one slot, 30 parts of 2 s, timeout 3 s, slack 5 s: 0 retries; queue wait p50 ${(wait.p50 / 1000).toFixed(1)} s, p99 ${(wait.p99 / 1000).toFixed(1)} s, longest ${(longest / 1000).toFixed(1)} s\n`);
    expect(wait.p99).toBeGreaterThan(40_000);
    expect(longest).toBeGreaterThan(40_000);
    await worker.stop();
  }, 180_000);
});
