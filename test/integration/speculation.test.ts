import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../../worker/task';
import { startEngine, type TestEngine } from '../support/engine';

/** A task that takes `slowdown` × params.ms and writes which attempt it was. One worker gets a slowdown of 30, so its losing attempts are still running when their backups win. */
const timed = (slowdown: number) =>
  defineTask({
    name: 'test.timed',
    async run(part, ctx) {
      await sleep((ctx.params as { ms: number }).ms * slowdown, undefined, { signal: ctx.signal });
      await ctx.writeOutput('out.txt', `part ${part.part} attempt ${part.attempt}\n`);
      return { attempt: part.attempt };
    },
  });

/** Backup attempts for stragglers on the real stack: one of four workers is 30× slower. */
describe('speculate: backup attempts for stragglers', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine();
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  test('the slow worker\'s last parts get backups that win; each part is counted once and its outputs come from one attempt only', async () => {
    const fast = await engine.startFleet(3, { fleet: 'spec', concurrency: 2, tasks: [timed(1)] });
    const [slow] = await engine.startFleet(1, { fleet: 'spec', concurrency: 2, tasks: [timed(30)] });
    const aborted: { part: number; reason: string }[] = [];
    slow!.on('part:aborted', (e) => aborted.push({ part: e.part, reason: e.reason }));
    const parts = 40;
    const { jobId, handle } = await engine.submit(
      {
        name: 'spec', fleet: 'spec', concurrency: 16, input: { split: { by: 'lines', size: 1 } },
        stages: [{ id: 'work', task: 'test.timed', params: { ms: 300 }, speculate: { after: '50%', slowerThan: 3 } }],
      },
      { 'in.txt': Array.from({ length: parts }, (_, i) => `p${i}`).join('\n') },
    );
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ status: 'succeeded', partsTotal: parts, succeeded: parts, failed: 0 });

    const rows = (await engine.db.pool.query(`SELECT part, attempt, status, worker_id, outputs FROM task_runs WHERE job_id = $1 ORDER BY part`, [jobId])).rows;
    expect(rows.map((r) => r.part)).toEqual(Array.from({ length: parts }, (_, i) => i));
    const backedUp = rows.filter((r) => r.attempt > 1);
    expect(backedUp.length).toBeGreaterThan(0);
    // A backup wins on a fast worker, and its one output is under its own attempt's prefix, written by that attempt.
    for (const r of backedUp) {
      expect(r.worker_id).not.toBe(slow!.workerId);
      expect(r.outputs).toHaveLength(1);
      expect(r.outputs[0].key).toContain(`/parts/${r.part}/attempt-${r.attempt}/`);
      expect(await engine.readText(r.outputs[0].key)).toBe(`part ${r.part} attempt ${r.attempt}\n`);
    }
    // The results list every part exactly once, each with the outputs of the attempt that counted.
    const results = await engine.readJsonLines<{ part: number; result: { attempt: number }; outputs: { key: string }[] }>(summary.resultsKey!);
    expect(results.map((r) => r.part).sort((a, b) => a - b)).toEqual(Array.from({ length: parts }, (_, i) => i));
    for (const r of results) expect(r.result.attempt).toBe(rows[r.part].attempt);
    // The losers on the slow worker were aborted on the won marker, not run to their end.
    await sleep(1500);
    process.stdout.write(`speculate: ${backedUp.length} of ${parts} parts won by a backup attempt; the slow worker aborted ${aborted.length} losing attempt(s)\n`);
    expect(aborted.length).toBeGreaterThan(0);
    expect(aborted.every((a) => /finished first elsewhere/.test(a.reason) && backedUp.some((r) => r.part === a.part))).toBe(true);
    await Promise.all([...fast, slow!].map((w) => w.stop()));
  }, 120_000);
});
