import type { QueryResultRow } from 'pg';
import type { FinalPartStatus } from '../common/status';
import type { Queryable } from './db';
import { liveOrCompacted } from './aggregates';

/**
 * Performance statistics of one job, computed by Postgres from task_runs (one row per part, its
 * latest attempt). Timings (queue wait, run time) are taken from finished parts only (succeeded or
 * failed): a part sent again keeps the previous attempt's receive/start/finish times until its new
 * attempt completes, so an open part's times do not belong together.
 */

/** p50, p95 and p99 of a duration, in ms (Postgres `percentile_cont`: interpolated). */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Part counts and timing percentiles of one stage, or of the whole job (`stageId` null). */
export interface PartStatsRow {
  /** null for the job-wide row. */
  stageId: string | null;
  /** Parts recorded (sent at least once). */
  parts: number;
  succeeded: number;
  failed: number;
  /** Parts whose latest attempt is not the first. */
  retried: number;
  bytesIn: number;
  bytesOut: number;
  /** started_at − sent_at of finished parts (time in the queue, and in a worker's hands before its handler began); null when no part has finished. */
  queueWaitMs: Percentiles | null;
  /** finished_at − started_at of finished parts; null when no part has finished. */
  runTimeMs: Percentiles | null;
  /** Sum of the run times of finished parts, in ms. */
  busyMs: number;
}

/** One of the slowest finished parts of a stage. */
export interface SlowPartRow {
  stageId: string;
  part: number;
  attempt: number;
  status: FinalPartStatus;
  workerId: string | null;
  runTimeMs: number;
}

/** What one worker did for a job: the parts whose latest attempt ran on it. */
export interface WorkerStatsRow {
  workerId: string;
  /** Parts whose latest attempt ended on this worker (succeeded, failed, or failed and waiting for a retry). */
  parts: number;
  succeeded: number;
  /** Parts whose latest attempt failed on this worker (finally, or waiting for a retry). */
  failed: number;
  /** Sum of those attempts' run times, in ms. */
  busyMs: number;
  bytesIn: number;
  bytesOut: number;
}

const FINISHED = `status IN ('succeeded', 'failed')`;
/** Finished on a worker: a part reused from the part cache (cached_ms set) waited and ran for no time, and would pull the percentiles to 0. */
const RAN = `${FINISHED} AND cached_ms IS NULL`;
/** SQL: the ms from one timestamp expression to another, as float8. */
export const ms = (from: string, to: string) => `(extract(epoch FROM ${to} - ${from}) * 1000)::float8`;

const percentiles = (row: QueryResultRow, column: string): Percentiles | null => {
  const v = row[column] as number[] | null;
  return v ? { p50: v[0]!, p95: v[1]!, p99: v[2]! } : null;
};

/**
 * Counts and percentiles per stage and for the whole job, in one statement (grouping sets):
 * the job-wide row (stageId null, always present, zero counts for a job without parts) comes first,
 * then one row per stage that has parts, by stage id.
 */
export function partStats(db: Queryable, jobId: string): Promise<PartStatsRow[]> {
  return liveOrCompacted(db, jobId, () => livePartStats(db, jobId), (a) => a.partStats);
}

async function livePartStats(db: Queryable, jobId: string): Promise<PartStatsRow[]> {
  const r = await db.query(
    `WITH t AS (
       SELECT stage_id, status, attempt, bytes_in, bytes_out,
              CASE WHEN ${RAN} THEN ${ms('sent_at', 'started_at')} END AS wait_ms,
              CASE WHEN ${RAN} THEN ${ms('started_at', 'finished_at')} END AS run_ms
         FROM task_runs WHERE job_id = $1)
     SELECT stage_id, grouping(stage_id) = 1 AS whole_job,
            count(*)::int AS parts,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE attempt > 1)::int AS retried,
            coalesce(sum(bytes_in), 0)::float8 AS bytes_in,
            coalesce(sum(bytes_out), 0)::float8 AS bytes_out,
            percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY wait_ms) AS wait_ms,
            percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY run_ms) AS run_ms,
            coalesce(sum(run_ms), 0)::float8 AS busy_ms
       FROM t
      GROUP BY GROUPING SETS ((), (stage_id))
      ORDER BY whole_job DESC, stage_id`,
    [jobId],
  );
  return r.rows.map((x) => ({
    stageId: x.whole_job ? null : x.stage_id,
    parts: x.parts,
    succeeded: x.succeeded,
    failed: x.failed,
    retried: x.retried,
    bytesIn: x.bytes_in,
    bytesOut: x.bytes_out,
    queueWaitMs: percentiles(x, 'wait_ms'),
    runTimeMs: percentiles(x, 'run_ms'),
    busyMs: x.busy_ms,
  }));
}

/**
 * The `limit` slowest finished parts of each stage of the job (by run time, longest first), one
 * stage at a time (a top-N sort over the stage's rows, which partStats reads in full anyway); of a compacted job, at most the
 * COMPACT_SLOWEST_KEPT that compaction kept.
 */
export async function slowestParts(db: Queryable, jobId: string, limit: number): Promise<SlowPartRow[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a whole number ≥ 0, got ${limit}.`);
  if (limit === 0) return [];
  return liveOrCompacted(
    db,
    jobId,
    () => liveSlowestParts(db, jobId, limit),
    (a) => a.slowest.filter((row, i, rows) => i < limit || rows[i - limit]!.stageId !== row.stageId),
  );
}

async function liveSlowestParts(db: Queryable, jobId: string, limit: number): Promise<SlowPartRow[]> {
  const r = await db.query(
    `SELECT s.stage_id, t.part, t.attempt, t.status, t.worker_id, ${ms('t.started_at', 't.finished_at')} AS run_ms
       FROM stage_runs s
       CROSS JOIN LATERAL (
         SELECT part, attempt, status, worker_id, started_at, finished_at
           FROM task_runs
          WHERE job_id = s.job_id AND stage_id = s.stage_id AND ${RAN}
            AND started_at IS NOT NULL AND finished_at IS NOT NULL
          ORDER BY (finished_at - started_at) DESC, part
          LIMIT $2) t
      WHERE s.job_id = $1
      ORDER BY s.stage_id, run_ms DESC, t.part`,
    [jobId, limit],
  );
  return r.rows.map((x) => ({ stageId: x.stage_id, part: x.part, attempt: x.attempt, status: x.status, workerId: x.worker_id, runTimeMs: x.run_ms }));
}

/** Per worker: the parts of the job whose latest attempt ran on it, busiest first. */
export function workerStats(db: Queryable, jobId: string): Promise<WorkerStatsRow[]> {
  return liveOrCompacted(db, jobId, () => liveWorkerStats(db, jobId), (a) => a.workerStats);
}

async function liveWorkerStats(db: Queryable, jobId: string): Promise<WorkerStatsRow[]> {
  const r = await db.query(
    `SELECT worker_id,
            count(*)::int AS parts,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status <> 'succeeded')::int AS failed,
            coalesce(sum(${ms('started_at', 'finished_at')}), 0)::float8 AS busy_ms,
            sum(bytes_in)::float8 AS bytes_in,
            sum(bytes_out)::float8 AS bytes_out
       FROM task_runs
      WHERE job_id = $1 AND worker_id IS NOT NULL AND status IN ('succeeded', 'failed', 'retry_wait')
      GROUP BY worker_id
      ORDER BY busy_ms DESC, worker_id`,
    [jobId],
  );
  return r.rows.map((x) => ({
    workerId: x.worker_id,
    parts: x.parts,
    succeeded: x.succeeded,
    failed: x.failed,
    busyMs: x.busy_ms,
    bytesIn: x.bytes_in,
    bytesOut: x.bytes_out,
  }));
}
