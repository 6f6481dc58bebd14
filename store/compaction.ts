import { deleteCacheOfJobs } from './part-cache';
import type { Pool } from 'pg';
import { JobNotFoundError } from '../common/errors';
import { TERMINAL_JOB_STATUSES, type JobStatus } from '../common/status';
import { COMPACT_SLOWEST_KEPT } from './aggregates';
import { stageBusy } from './cost';
import { withTransaction, type Queryable } from './db';
import { jobProgress } from './progress';
import { partStats, slowestParts, workerStats } from './reports';

/**
 * Keeps the store in proportion to what is running. A finished job's task_runs rows (one per part
 * of each stage) are needed afterwards only by reports and by retries of its failed parts, so
 * compaction computes what the reports read (job_aggregates), keeps the failed parts' rows, keeps
 * the run intervals fleet cost windows clip (stage_run_intervals) and deletes the rest; pruning
 * deletes old finished jobs altogether. Neither touches S3.
 */

/** Thrown when compaction is asked of a job that has not ended: a running stage still needs every row. */
export class JobNotFinishedError extends Error {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
  ) {
    super(`job ${jobId} is ${status}: only a finished job (succeeded, failed or cancelled) can be compacted`);
    this.name = 'JobNotFinishedError';
  }
}

export interface CompactResult {
  jobId: string;
  /** False when the job had been compacted already (nothing changed). */
  compacted: boolean;
  /** task_runs rows the job had before compaction. */
  partStages: number;
  /** Rows deleted, and kept (finally failed parts). */
  rowsDeleted: number;
  rowsKept: number;
}

const TERMINAL = TERMINAL_JOB_STATUSES as readonly string[];

/** Rows compaction keeps: a failed part's row (its error, its inputs for `retry`). */
const KEPT = `status = 'failed'`;
/** A row whose attempt ran to its end (store/cost.ts counts its busy time). */
const RAN = `started_at IS NOT NULL AND finished_at IS NOT NULL AND finished_at >= started_at`;

/**
 * Compacts one finished job in a transaction (the job row locked, so two compactors apply it once):
 * reports, `status` and fleet cost read the same figures afterwards. A job compacted already is left
 * as it is. JobNotFoundError for an unknown job, JobNotFinishedError for one still running.
 */
export async function compactJob(pool: Pool, jobId: string): Promise<CompactResult> {
  return withTransaction(pool, async (tx) => {
    const job = (await tx.query<{ status: JobStatus; compacted: boolean }>(`SELECT status, compacted_at IS NOT NULL AS compacted FROM jobs WHERE job_id = $1 FOR UPDATE`, [jobId])).rows[0];
    if (!job) throw new JobNotFoundError(jobId);
    if (!TERMINAL.includes(job.status)) throw new JobNotFinishedError(jobId, job.status);
    if (job.compacted) return { jobId, compacted: false, partStages: await compactedPartStages(tx, jobId), rowsDeleted: 0, rowsKept: await keptRows(tx, jobId) };
    // Computed by the very functions that read live rows, before any row goes.
    const progress = (await jobProgress(tx, jobId)).map(({ status: _s, task: _t, mode: _m, partsTotal: _p, ...counts }) => counts);
    const stats = await partStats(tx, jobId);
    const workers = await workerStats(tx, jobId);
    const slowest = await slowestParts(tx, jobId, COMPACT_SLOWEST_KEPT);
    const busy = await stageBusy(tx, jobId);
    await tx.query(
      `INSERT INTO stage_run_intervals (job_id, stage_id, started_at, finished_at)
       SELECT job_id, stage_id, array_agg(started_at ORDER BY started_at, finished_at), array_agg(finished_at ORDER BY started_at, finished_at)
         FROM task_runs WHERE job_id = $1 AND NOT (${KEPT}) AND ${RAN}
        GROUP BY job_id, stage_id`,
      [jobId],
    );
    const deleted = await tx.query(`DELETE FROM task_rows WHERE run_id IN (SELECT run_id FROM stage_runs WHERE job_id = $1) AND NOT (${KEPT})`, [jobId]);
    const partStages = stats[0]?.parts ?? 0;
    await tx.query(
      `INSERT INTO job_aggregates (job_id, part_stages, progress, part_stats, worker_stats, slowest, stage_busy) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [jobId, partStages, JSON.stringify(progress), JSON.stringify(stats), JSON.stringify(workers), JSON.stringify(slowest), JSON.stringify(busy)],
    );
    await tx.query(`UPDATE jobs SET compacted_at = now() WHERE job_id = $1`, [jobId]);
    return { jobId, compacted: true, partStages, rowsDeleted: deleted.rowCount ?? 0, rowsKept: partStages - (deleted.rowCount ?? 0) };
  });
}

async function compactedPartStages(db: Queryable, jobId: string): Promise<number> {
  return Number((await db.query(`SELECT part_stages FROM job_aggregates WHERE job_id = $1`, [jobId])).rows[0]?.part_stages ?? 0);
}

async function keptRows(db: Queryable, jobId: string): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_runs WHERE job_id = $1`, [jobId])).rows[0]!.n;
}

/** Which finished jobs a policy selects: ended more than `olderThanMs` ago. */
export interface FinishedJobsFilter {
  /** Minimum time since the job finished, in ms. */
  olderThanMs: number;
  /** Most jobs taken in one call. Default: 1000. */
  limit?: number;
}

function checkFilter(filter: FinishedJobsFilter): void {
  if (!Number.isSafeInteger(filter.olderThanMs) || filter.olderThanMs < 0) throw new Error(`olderThanMs must be a whole number of ms ≥ 0, got ${filter.olderThanMs}.`);
  if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 1)) throw new Error(`limit must be a whole number ≥ 1, got ${filter.limit}.`);
}

/** Compacts the finished jobs not compacted yet that ended more than `olderThanMs` ago, oldest first. */
export async function compactFinishedJobs(pool: Pool, filter: FinishedJobsFilter): Promise<CompactResult[]> {
  checkFilter(filter);
  const r = await pool.query<{ job_id: string }>(
    `SELECT job_id FROM jobs
      WHERE compacted_at IS NULL AND finished_at IS NOT NULL AND finished_at < now() - $1 * interval '1 millisecond' AND status = ANY($2::text[])
      ORDER BY finished_at LIMIT $3`,
    [filter.olderThanMs, TERMINAL, filter.limit ?? 1000],
  );
  const results: CompactResult[] = [];
  for (const { job_id } of r.rows) results.push(await compactJob(pool, job_id));
  return results;
}

/** How much of the store some jobs take: their per-part rows, and what compaction kept of them. */
export interface StoreBytes {
  jobs: number;
  /** Parts of stage runs the jobs have or had (task_runs rows before compaction). */
  partStages: number;
  /** task_runs rows they hold now. */
  taskRuns: number;
  /**
   * Bytes of their task_runs rows (tuples, line pointers, index entries), and of their
   * job_aggregates and stage_run_intervals rows (as stored, compressed). Space freed by deletes is
   * reused by Postgres and not counted: `storeTableSizes` shows the files as they are.
   */
  bytes: number;
  /** bytes / partStages; null without parts. */
  bytesPerPartStage: number | null;
}

/** A btree entry of these key columns: header (8), line pointer (4), keys padded to 8 bytes (exact for the int + int/bigint/text keys of task_rows). */
const indexEntry = (keys: string[]) => `(12 + (${keys.map((k) => `pg_column_size(${k})`).join(' + ')} + 7) / 8 * 8)`;

/**
 * SQL: bytes one task_rows row `t` takes in the table (tuple and line pointer) and in each index
 * that holds it (012_task_rows.sql), as a freshly built index would store it: entries of deleted
 * rows are not counted (Postgres reuses their space). Keep it in step with the indexes of task_rows.
 */
const TASK_RUN_BYTES = `(pg_column_size(t.*) + 4
  + ${indexEntry(['t.run_id', 't.part'])}
  + CASE WHEN t.status <> 'succeeded' THEN ${indexEntry(['t.run_id', 't.status'])} ELSE 0 END
  + CASE WHEN t.success_seq IS NOT NULL THEN ${indexEntry(['t.run_id', 't.success_seq'])} ELSE 0 END
  + CASE WHEN t.status = 'queued' THEN ${indexEntry(['t.run_id'])} ELSE 0 END)`;

/** The store bytes of the given jobs (see StoreBytes). */
export async function jobsStoreBytes(db: Queryable, jobIds: string[]): Promise<StoreBytes> {
  const r = await db.query(
    `WITH t AS (SELECT count(*)::float8 AS n, coalesce(sum(${TASK_RUN_BYTES}), 0)::float8 AS bytes,
                       count(*) FILTER (WHERE s.job_id NOT IN (SELECT job_id FROM job_aggregates))::float8 AS live
                  FROM task_rows t JOIN stage_runs s ON s.run_id = t.run_id WHERE s.job_id = ANY($1::text[])),
          a AS (SELECT coalesce(sum(part_stages), 0)::float8 AS part_stages, coalesce(sum(pg_column_size(a.*) + 4 + ${indexEntry(['a.job_id'])}), 0)::float8 AS bytes
                  FROM job_aggregates a WHERE job_id = ANY($1::text[])),
          i AS (SELECT coalesce(sum(pg_column_size(i.*) + 4 + ${indexEntry(['i.job_id', 'i.stage_id'])}), 0)::float8 AS bytes
                  FROM stage_run_intervals i WHERE job_id = ANY($1::text[]))
     SELECT (SELECT count(*) FROM jobs WHERE job_id = ANY($1::text[]))::int AS jobs,
            t.n AS task_runs, t.live + a.part_stages AS part_stages, t.bytes + a.bytes + i.bytes AS bytes
       FROM t, a, i`,
    [jobIds],
  );
  const x = r.rows[0];
  const partStages = Number(x.part_stages);
  const bytes = Math.round(Number(x.bytes));
  return { jobs: x.jobs, partStages, taskRuns: Number(x.task_runs), bytes, bytesPerPartStage: partStages > 0 ? bytes / partStages : null };
}

/** Bytes per part-stage of one job in Postgres (tables and indexes, see StoreBytes); null for a job without parts. */
export async function storeBytesPerPartStage(db: Queryable, jobId: string): Promise<number | null> {
  return (await jobsStoreBytes(db, [jobId])).bytesPerPartStage;
}

/** One table of the store, as Postgres reports it. */
export interface TableSize {
  table: string;
  /** Rows, as the planner estimates them (pg_class.reltuples; -1 before the first ANALYZE). */
  rowsEstimate: number;
  tableBytes: number;
  indexBytes: number;
  /** Everything: table, indexes, TOAST. */
  totalBytes: number;
}

/** Sizes of the per-part tables and the job tables, biggest first. */
export async function storeTableSizes(db: Queryable): Promise<TableSize[]> {
  const r = await db.query(
    `SELECT c.relname AS table, c.reltuples::float8 AS rows, pg_table_size(c.oid)::float8 AS table_bytes,
            pg_indexes_size(c.oid)::float8 AS index_bytes, pg_total_relation_size(c.oid)::float8 AS total_bytes
       FROM pg_class c
      WHERE c.oid IN ('task_rows'::regclass, 'stage_runs'::regclass, 'jobs'::regclass, 'job_aggregates'::regclass, 'stage_run_intervals'::regclass)
      ORDER BY total_bytes DESC, c.relname`,
  );
  return r.rows.map((x) => ({ table: x.table, rowsEstimate: x.rows, tableBytes: x.table_bytes, indexBytes: x.index_bytes, totalBytes: x.total_bytes }));
}

/** What pruning deletes (or, on a dry run, would delete). */
export interface PruneResult extends StoreBytes {
  dryRun: boolean;
  jobIds: string[];
  stageRuns: number;
  /** Part cache entries whose outputs are those jobs' (an entry never outlives its outputs). */
  cacheEntries: number;
}

/**
 * Deletes finished jobs that ended more than `olderThanMs` ago with everything the store holds of
 * them (stage runs, task runs, aggregates, intervals, submit claims, the part cache entries whose
 * outputs are theirs); with `dryRun`, only says what
 * it would delete. A retry job outliving its pruned parent keeps its rows; its parent link is cleared.
 * S3 objects (inputs, outputs, results) are not touched.
 */
export async function pruneJobs(pool: Pool, filter: FinishedJobsFilter & { dryRun?: boolean }): Promise<PruneResult> {
  checkFilter(filter);
  const dryRun = filter.dryRun ?? false;
  const run = async (db: Queryable): Promise<PruneResult> => {
    const ids = (
      await db.query<{ job_id: string }>(
        `SELECT job_id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < now() - $1 * interval '1 millisecond' AND status = ANY($2::text[])
          ORDER BY finished_at, job_id LIMIT $3 ${dryRun ? '' : 'FOR UPDATE'}`,
        [filter.olderThanMs, TERMINAL, filter.limit ?? 1000],
      )
    ).rows.map((x) => x.job_id);
    const bytes = await jobsStoreBytes(db, ids);
    const stageRuns = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM stage_runs WHERE job_id = ANY($1::text[])`, [ids])).rows[0]!.n;
    const cacheEntries = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM part_cache WHERE job_id = ANY($1::text[])`, [ids])).rows[0]!.n;
    if (!dryRun && ids.length > 0) {
      await deleteCacheOfJobs(db, ids);
      await db.query(`UPDATE jobs SET parent_job_id = NULL WHERE parent_job_id = ANY($1::text[]) AND NOT job_id = ANY($1::text[])`, [ids]);
      await db.query(`DELETE FROM job_claims WHERE job_id = ANY($1::text[])`, [ids]);
      await db.query(`DELETE FROM jobs WHERE job_id = ANY($1::text[])`, [ids]);
    }
    return { ...bytes, dryRun, jobIds: ids, stageRuns, cacheEntries };
  };
  return dryRun ? run(pool) : withTransaction(pool, run);
}
