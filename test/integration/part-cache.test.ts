import { cacheClearCommand } from '../../manager/cli/commands/cache';
import { renderReport } from '../../manager/reports';
import { pruneJobs } from '../../store/compaction';
import { defineTask } from '../../worker/task';
import { pipeline, useEngineWithClient } from '../support/engine';

/** Handler runs, as `job/stage/part`. */
const ran: string[] = [];

/** Upper-cases its file (version as given); counts lines; sums the counts of every upstream part. */
const tasks = (upperVersion: string) => [
  defineTask({
    name: 'month.upper',
    version: upperVersion,
    async run(part, ctx) {
      ran.push(`${part.jobId}/${part.stageId}/${part.part}`);
      const lines: string[] = [];
      for await (const line of ctx.lines()) lines.push(upperVersion === '1' ? line.toUpperCase() : `${line.toUpperCase()}!`);
      await ctx.writeOutput('upper.txt', `${lines.join('\n')}\n`);
    },
  }),
  defineTask({
    name: 'month.count',
    async run(part, ctx) {
      ran.push(`${part.jobId}/${part.stageId}/${part.part}`);
      let n = 0;
      for await (const line of ctx.lines()) if (line.length > 0) n += 1;
      await ctx.writeOutput('count.txt', `${n * ((ctx.params as { weight?: number }).weight ?? 1)}\n`);
    },
  }),
  defineTask({
    name: 'month.sum',
    async run(part, ctx) {
      ran.push(`${part.jobId}/${part.stageId}/${part.part}`);
      let total = 0;
      for await (const line of ctx.lines()) if (line.length > 0) total += Number(line);
      await ctx.writeOutput('total.txt', `${total}\n`);
      return { total };
    },
  }),
];

describe('the content-addressed part cache', () => {
  const t = useEngineWithClient();

  const month = (weight = 1) =>
    pipeline({
      name: 'month-end', fleet: 'cached', concurrency: 8,
      stages: [
        { id: 'clean', task: 'month.upper', cache: true },
        { id: 'count', task: 'month.count', needs: ['clean'], chain: 'stream', cache: true, params: { weight } },
        { id: 'total', task: 'month.sum', needs: ['count'], gather: true, cache: true },
      ],
    });
  const week = (w: number, tag = '', extra = 0) => Array.from({ length: 10 + w + extra }, (_, i) => `claim w${w} ${i}${tag}`).join('\n');
  /** The four weeks; `changed` amended (same number of claims), `added` with one claim more. */
  const weeks = (o: { changed?: number; added?: number } = {}) =>
    Object.fromEntries([1, 2, 3, 4].map((w) => [`week-${w}.txt`, week(w, w === o.changed ? ' amended' : '', w === o.added ? 1 : 0)]));

  /** Runs the month; returns the parts that ran per stage, the cache counts of the report, and the total. */
  const runMonth = async (files: Record<string, string>, weight = 1) => {
    const { jobId, handle } = await t.engine.submit(month(weight), files);
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    const report = await t.client.report(jobId);
    const counts = Object.fromEntries(report.stages.map((s) => [s.stageId, s.cache]));
    // Parts whose handler ran, each once: delivery is at least once, so a handler may run twice for one part (counted once).
    const runs = (stage: string) => new Set(ran.filter((r) => r.startsWith(`${jobId}/${stage}/`))).size;
    const total = (await t.engine.readJsonLines<{ result: { total: number } }>(summary.resultsKey!))[0]!.result.total;
    return { jobId, ran: { clean: runs('clean'), count: runs('count'), total: runs('total') }, counts, total, report, makespanMs: summary.finishedAt - summary.startedAt };
  };

  test('a month run twice with one file changed runs only that file and what it feeds; a param or a handler version change invalidates', async () => {
    let workers = await t.engine.startFleet(2, { fleet: 'cached', concurrency: 4, tasks: tasks('1') });
    const lines = 11 + 12 + 13 + 14;

    const first = await runMonth(weeks());
    expect(first.ran).toEqual({ clean: 4, count: 4, total: 1 });
    expect(first.counts).toEqual({ clean: { hits: 0, misses: 4, savedMs: 0 }, count: { hits: 0, misses: 4, savedMs: 0 }, total: { hits: 0, misses: 1, savedMs: 0 } });
    expect(first.total).toBe(lines);

    // Week 3 has one claim more: its clean and count parts run, and the total over every count; the rest is reused.
    const second = await runMonth(weeks({ added: 3 }));
    expect(second.ran).toEqual({ clean: 1, count: 1, total: 1 });
    expect(second.counts.clean).toMatchObject({ hits: 3, misses: 1 });
    expect(second.counts.count).toMatchObject({ hits: 3, misses: 1 });
    expect(second.counts.total).toMatchObject({ hits: 0, misses: 1 });
    expect(second.counts.clean!.savedMs).toBeGreaterThanOrEqual(0);
    expect(second.total).toBe(lines + 1);
    expect(renderReport(second.report)).toMatch(/part cache[^\n]*\n.*\nclean +3 +1/);
    process.stdout.write(`part cache: first run ${first.makespanMs} ms (9 parts ran), second with one file changed ${second.makespanMs} ms (3 ran, 6 reused)\n`);

    // The same again: everything reused, nothing runs.
    const third = await runMonth(weeks({ added: 3 }));
    expect(third.ran).toEqual({ clean: 0, count: 0, total: 0 });
    expect(third.total).toBe(lines + 1);
    // Reused parts neither waited nor ran: the timings and the slowest parts leave them out.
    expect(third.report.slowest).toEqual([]);
    expect(third.report.stages.map((s) => s.runTimeMs)).toEqual([null, null, null]);

    // Week 2 amended without a claim more: its count's bytes are what they were, so the total is reused (the change stops there).
    const amended = await runMonth(weeks({ added: 3, changed: 2 }));
    expect(amended.ran).toEqual({ clean: 1, count: 1, total: 0 });
    expect(amended.total).toBe(lines + 1);

    // A param of the count stage changed: count and total run again, clean is reused.
    const weighted = await runMonth(weeks({ added: 3 }), 2);
    expect(weighted.ran).toEqual({ clean: 0, count: 4, total: 1 });
    expect(weighted.total).toBe(2 * (lines + 1));

    // A new version of the upper-casing handler: its parts are stale and run, and so do the counts over
    // their new bytes; the counts come out the same, so the total is reused.
    await Promise.all(workers.map((w) => w.stop()));
    workers = await t.engine.startFleet(2, { fleet: 'cached', concurrency: 4, tasks: tasks('2') });
    const upgraded = await runMonth(weeks({ added: 3 }));
    expect(upgraded.ran).toEqual({ clean: 4, count: 4, total: 0 });
    expect(upgraded.total).toBe(lines + 1);

    // cache clear: the pipeline's entries are gone and the next run runs every part.
    const out: string[] = [];
    expect(await cacheClearCommand({ pipeline: 'month-end' }, { out: (s: string) => void out.push(s), err: () => undefined, isTTY: false } as never, { pool: t.engine.db.pool })).toBe(0);
    expect(out.join('')).toMatch(/part cache of pipeline month-end: \d+ entries dropped/);
    const cleared = await runMonth(weeks({ added: 3 }));
    expect(cleared.ran).toEqual({ clean: 4, count: 4, total: 1 });
    expect(cleared.total).toBe(lines + 1);

    // Pruning a job removes the cache entries that point at its outputs.
    const entries = async (jobId: string) => (await t.engine.db.pool.query(`SELECT count(*)::int AS n FROM part_cache WHERE job_id = $1`, [jobId])).rows[0].n as number;
    expect(await entries(cleared.jobId)).toBe(9);
    await t.engine.db.pool.query(`UPDATE jobs SET finished_at = now() - interval '40 days' WHERE job_id = $1`, [cleared.jobId]);
    const pruned = await pruneJobs(t.engine.db.pool, { olderThanMs: 30 * 86_400_000 });
    expect(pruned.jobIds).toContain(cleared.jobId);
    expect(pruned.cacheEntries).toBeGreaterThanOrEqual(9);
    expect(await entries(cleared.jobId)).toBe(0);
    await Promise.all(workers.map((w) => w.stop()));
  }, 240_000);
});
