import { randomBytes } from 'node:crypto';
import { config } from '../../common/config';
import { createPool } from '../../store/db';
import { migrate } from '../../store/migrate';
import { jobCharts, listParts } from '../../store/parts';
import { jobProgress } from '../../store/progress';

/**
 * What the web console asks Postgres about one big job, timed: a job of PARTS parts (default
 * 1,000,000; argv[2]) written into a fresh schema, then a parts page (first, middle, failed only),
 * the progress (every 2 s on a live job page) and the chart series (every 15 s). Prints one line each.
 *   npm run build && node dist/scripts/bench/console-queries.js [PARTS]
 */
async function run(): Promise<void> {
  const parts = Number(process.argv[2] ?? 1_000_000);
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = createPool(config().DATABASE_URL, { schema, max: 2 });
  try {
    await migrate(pool);
    await pool.query(`INSERT INTO jobs (job_id, pipeline_name, definition, status, bucket, input_prefix, workflow_id, fleet) VALUES ('big', 'big', '{}', 'running', 'b', 'p', 'w', 'default')`);
    await pool.query(`INSERT INTO stage_runs (job_id, stage_id, status, task, mode) VALUES ('big', 'a', 'running', 'noop', 'input')`);
    // 1 part in 100,000 failed, the last 1% in flight, 50 workers, a part every 3 ms, 69 ms each.
    await pool.query(
      `INSERT INTO task_rows (run_id, part, attempt, status, worker_id, sent_at, received_at, started_at, finished_at)
       SELECT (SELECT run_id FROM stage_runs WHERE job_id = 'big' AND stage_id = 'a'), i, 1, CASE WHEN i % 100000 = 7 THEN 'failed' WHEN i >= $1 * 0.99 THEN 'queued' ELSE 'succeeded' END, 'w' || (i % 50),
              t, t + interval '20 ms', t + interval '21 ms', t + interval '90 ms'
         FROM generate_series(0, $1 - 1) i, LATERAL (SELECT now() - interval '1 hour' + i * interval '3 ms' AS t) x`,
      [parts],
    );
    await pool.query('ANALYZE task_rows');
    const time = async (what: string, fn: () => Promise<unknown>) => {
      await fn(); // warm
      const started = process.hrtime.bigint();
      await fn();
      console.log(`console query, ${parts.toLocaleString('en-US')} parts: ${what}: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);
    };
    await time('first parts page', () => listParts(pool, 'big', { limit: 51 }));
    await time('parts page from the middle', () => listParts(pool, 'big', { limit: 51, after: { stageId: 'a', part: Math.floor(parts / 2) } }));
    await time('failed parts only', () => listParts(pool, 'big', { limit: 51, status: ['failed'] }));
    await time('progress', () => jobProgress(pool, 'big'));
    await time('chart series', () => jobCharts(pool, 'big'));
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
