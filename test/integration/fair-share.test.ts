import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline, useEngineWithClient } from '../support/engine';

/**
 * Priorities and fair share between jobs on one fleet, on the real stack: the fleet's queue holds
 * only a few seconds of work (queueAheadMs), the rest of each window waits in the orchestrator,
 * and each job's share of what may be in flight follows its priority (docs/t.engine.md, "Fair share").
 */
describe('fair share between jobs on one fleet', () => {
  const t = useEngineWithClient();

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`).join('\n');
  const sleepy = (name: string, fleet: string, priority: number, sleepMs: number, concurrency: number) =>
    pipeline({ name, fleet, priority, concurrency, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs } }] });
  const ms = async (sql: string, params: unknown[]) => Number((await t.engine.db.pool.query(sql, params)).rows[0].ms);
  const succeeded = async (jobId: string) => (await t.engine.db.pool.query(`SELECT count(*)::int AS n FROM task_runs WHERE job_id = $1 AND status = 'succeeded'`, [jobId])).rows[0].n as number;

  test('two jobs with priorities 3 and 1 saturating one fleet: their parts/s are about 3:1', async () => {
    const workers = await t.engine.startFleet(1, { fleet: 'shared', concurrency: 8 });
    const a = await t.engine.submit(sleepy('weight-3', 'shared', 3, 250, 300), { 'in.txt': lines(560) });
    const b = await t.engine.submit(sleepy('weight-1', 'shared', 1, 250, 300), { 'in.txt': lines(280) });
    await Promise.all([a.handle.result(), b.handle.result()]);
    expect((await t.client.get(a.jobId)).priority).toBe(3);
    // While both ran: from 3 s after the later one's first start (the shares settle) to the first one's last finish.
    const firstStart = `SELECT extract(epoch from min(started_at)) * 1000 AS ms FROM task_runs WHERE job_id = $1`;
    const lastFinish = `SELECT extract(epoch from max(finished_at)) * 1000 AS ms FROM task_runs WHERE job_id = $1`;
    const from = Math.max(await ms(firstStart, [a.jobId]), await ms(firstStart, [b.jobId])) + 3000;
    const to = Math.min(await ms(lastFinish, [a.jobId]), await ms(lastFinish, [b.jobId]));
    expect(to - from).toBeGreaterThan(3000);
    const rate = async (jobId: string) => {
      const r = await t.engine.db.pool.query(
        `SELECT count(*)::int AS n FROM task_runs WHERE job_id = $1 AND status = 'succeeded' AND finished_at > to_timestamp($2 / 1000.0) AND finished_at <= to_timestamp($3 / 1000.0)`,
        [jobId, from, to],
      );
      return r.rows[0].n / ((to - from) / 1000);
    };
    const [ra, rb] = [await rate(a.jobId), await rate(b.jobId)];
    process.stdout.write(`fair share, priorities 3 and 1 on 8 slots (parts of 250 ms), over ${((to - from) / 1000).toFixed(1)} s: ${ra.toFixed(1)} and ${rb.toFixed(1)} parts/s, ratio ${(ra / rb).toFixed(2)}\n`);
    expect(ra / rb).toBeGreaterThan(2);
    expect(ra / rb).toBeLessThan(4);
    await Promise.all(workers.map((w) => w.stop()));
  }, 180_000);

  test('a high-priority job submitted behind a long low-priority backlog has its first part running within 10 s', async () => {
    const workers = await t.engine.startFleet(1, { fleet: 'busy', concurrency: 8 });
    // 5,000 parts of 100 ms with a window of 1,000: without a bound on the queue, 1,000 parts (12.5 s of work) would be queued ahead.
    const backlog = await t.engine.submit(sleepy('backlog', 'busy', 1, 100, 1000), { 'in.txt': lines(5000) });
    while ((await succeeded(backlog.jobId)) < 300) await sleep(200);
    const submittedAt = Date.now();
    const urgent = await t.engine.submit(sleepy('urgent', 'busy', 100, 100, 50), { 'in.txt': lines(40) });
    const summary = await urgent.handle.result();
    expect(summary.status).toBe('succeeded');
    const firstRunning = (await ms(`SELECT extract(epoch from min(started_at)) * 1000 AS ms FROM task_runs WHERE job_id = $1`, [urgent.jobId])) - submittedAt;
    const backlogDone = await succeeded(backlog.jobId);
    process.stdout.write(`priority 100 behind a 5,000-part backlog (${backlogDone} done): first part running ${(firstRunning / 1000).toFixed(1)} s after submit, all 40 done ${((summary.finishedAt - submittedAt) / 1000).toFixed(1)} s after\n`);
    expect(firstRunning).toBeLessThan(10_000);
    // The backlog was still far from drained: the urgent job did not wait for it.
    expect(backlogDone).toBeLessThan(4000);
    await t.client.cancel(backlog.jobId);
    expect((await t.client.wait(backlog.jobId)).status).toBe('cancelled');
    await Promise.all(workers.map((w) => w.stop()));
  }, 240_000);
});
