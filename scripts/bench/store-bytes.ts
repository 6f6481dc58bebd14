import { Command } from 'commander';
import { compactJob, jobsStoreBytes, storeTableSizes, type TableSize } from '../../store/compaction';
import { startEngine } from '../../test/support/engine';

/**
 * `node dist/scripts/bench/store-bytes.js [--parts N]`: Postgres bytes per part-stage of one
 * two-stage job (stream-chained no-op parts) run on the local stack in a schema of its own, while
 * its rows are live and after compaction; and the task_rows files as Postgres reports them (the
 * estimate per job against the real size of a table that holds only this job).
 */
async function main(): Promise<void> {
  const o = new Command()
    .option('--parts <n>', 'parts per stage', (v) => Number(v), 5000)
    .option('--concurrency <n>', 'window of the job', (v) => Number(v), 500)
    .parse()
    .opts<{ parts: number; concurrency: number }>();
  const engine = await startEngine();
  try {
    await engine.startFleet(2, { concurrency: 64 });
    const { jobId, handle } = await engine.submit(
      {
        name: 'store-bytes',
        concurrency: o.concurrency,
        input: { split: { by: 'lines', size: 1 } },
        stages: [
          { id: 'first', task: 'noop' },
          { id: 'second', task: 'noop', needs: ['first'], chain: 'stream' },
        ],
      },
      { 'in.txt': Array.from({ length: o.parts }, (_, i) => `line ${i}`).join('\n') },
    );
    const summary = await handle.result();
    if (summary.status !== 'succeeded') throw new Error(`the job ${summary.status}: ${summary.error ?? ''}`);
    const pool = engine.db.pool;
    await pool.query('VACUUM ANALYZE task_rows');
    const live = await jobsStoreBytes(pool, [jobId]);
    const liveFiles = taskRuns(await storeTableSizes(pool));
    process.stdout.write(`parts per stage: ${o.parts}, part-stages: ${live.partStages}\n`);
    process.stdout.write(`live:      ${live.bytesPerPartStage!.toFixed(1)} bytes per part-stage (estimate per job: rows and index entries)\n`);
    process.stdout.write(`           task_rows files: ${(liveFiles.totalBytes / live.partStages).toFixed(1)} bytes per part-stage (table ${liveFiles.tableBytes}, indexes ${liveFiles.indexBytes})\n`);
    const indexes = await pool.query<{ name: string; bytes: string }>(
      `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index WHERE indrelid = 'task_rows'::regclass ORDER BY 1`,
    );
    for (const x of indexes.rows) process.stdout.write(`           ${x.name}: ${(Number(x.bytes) / live.partStages).toFixed(1)} bytes per part-stage\n`);
    const r = await compactJob(pool, jobId);
    const compacted = await jobsStoreBytes(pool, [jobId]);
    process.stdout.write(`compacted: ${compacted.bytesPerPartStage!.toFixed(1)} bytes per part-stage (${r.rowsDeleted} rows deleted, ${r.rowsKept} kept; aggregates and intervals included)\n`);
  } finally {
    await engine.close();
  }
}

const taskRuns = (tables: TableSize[]): TableSize => tables.find((t) => t.table === 'task_rows')!;

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
