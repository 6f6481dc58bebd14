import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidOptionError, JobStateError } from '../../manager';
import { statusText } from '../../manager/cli/commands/status';
import { useEngineWithClient } from '../support/engine';

/** `batchgrid tune` on the real stack: the workflow's `tune` update, applied by the running stage within about a second. */
describe('tune a running job', () => {
  const t = useEngineWithClient();

  const count = async (jobId: string, status: string) =>
    (await t.engine.db.pool.query(`SELECT count(*)::int AS n FROM task_runs WHERE job_id = $1 AND status = $2`, [jobId, status])).rows[0].n as number;

  test('concurrency, priority and tolerated failures change while it runs; the in-flight count follows; the change is in its history', async () => {
    const workers = await t.engine.startFleet(1, { fleet: 'tuned', concurrency: 16 });
    // Parts 0 and 1 fail for good: 2 of 300, beyond the stage's tolerance of 0 until the tune allows 2%.
    const { jobId, handle } = await t.engine.submit(
      { name: 'tuned', fleet: 'tuned', concurrency: 3, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 300, failParts: [0, 1], permanent: true } }] },
      { 'in.txt': Array.from({ length: 300 }, (_, i) => `p${i}`).join('\n') },
    );
    while ((await count(jobId, 'succeeded')) < 10) await sleep(100);
    let before = 0;
    for (let i = 0; i < 10; i += 1, await sleep(100)) before = Math.max(before, await count(jobId, 'queued'));

    const tunedAt = Date.now();
    expect(await t.client.tune(jobId, { concurrency: 12, priority: 9, tolerate: '2%' })).toEqual({ concurrency: 12, priority: 9, tolerate: { failedPercent: 2 } });
    let after = 0;
    let reachedMs: number | undefined;
    // The window is wide for a loaded CI machine; without the tune the parts run out at 3 in flight
    // (about 27 s of them left) and the test fails.
    while (Date.now() - tunedAt < 60_000 && reachedMs === undefined) {
      after = Math.max(after, await count(jobId, 'queued'));
      if (after >= 10) reachedMs = Date.now() - tunedAt;
      else await sleep(50);
    }
    for (let i = 0; i < 10; i += 1, await sleep(100)) after = Math.max(after, await count(jobId, 'queued'));
    process.stdout.write(`tune: in flight at most ${before} with concurrency 3; ${after} with 12, reached 10 in flight ${reachedMs} ms after the tune\n`);
    expect(before).toBeLessThanOrEqual(3);
    // On a failure, what the stage saw: its window, the fleet's share inputs, the tuned concurrency.
    const seen = (
      await t.engine.db.pool.query(
        `SELECT s.in_flight, s.busy_slots, s.ready, s.mean_run_ms, j.concurrency FROM stage_runs s JOIN jobs j USING (job_id) WHERE s.job_id = $1`,
        [jobId],
      )
    ).rows[0];
    expect({ reachedMs, after, seen }).toMatchObject({ reachedMs: expect.any(Number) });
    expect(after).toBeLessThanOrEqual(12);

    const job = await t.client.get(jobId);
    expect(job).toMatchObject({ concurrency: 12, priority: 9, tolerate: { failedPercent: 2 } });
    expect(statusText(job, await t.client.progress(jobId))).toContain('priority 9, concurrency 12 (tuned, tolerates 2% failed parts a stage)');
    // Every problem of a bad request is named; nothing changes.
    await expect(t.client.tune(jobId, { concurrency: 0, priority: 500 })).rejects.toThrow(InvalidOptionError);
    await expect(t.client.tune(jobId, { concurrency: 0, priority: 500 })).rejects.toThrow(/concurrency: must be a whole number of parts between 1 and 100000 \(got 0\); priority: must be a whole number of weight between 1 and 100 \(got 500\)/);

    // Two finally failed parts of 300 (0.7 %) are within the tuned 2 %: the stage succeeds.
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ status: 'succeeded', partsTotal: 300, succeeded: 298, failed: 2 });
    const updates = (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'tune');
    expect(updates).toHaveLength(1);
    await expect(t.client.tune(jobId, { concurrency: 5 })).rejects.toThrow(JobStateError);
    await Promise.all(workers.map((w) => w.stop()));
  }, 180_000);
});
