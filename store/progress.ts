import type { Queryable } from './db';
import { PART_COUNTS, PART_STATUSES, type PartCountName, type StageMode, type StageStatus } from '../common/status';
import { partCountColumns } from './task-runs';
import { jobAggregates, type StageProgressCounts } from './aggregates';

/** Part counts of one stage run, derived from task_runs (never from increments), named as PART_COUNTS says. */
export interface StageProgress extends Record<PartCountName, number> {
  stageId: string;
  status: StageStatus;
  task: string;
  mode: StageMode;
  /** Known once the stage is planned (stream stages: when upstream is done). */
  partsTotal: number | null;
  /** Of the parts in flight, those a worker has started (the rest wait in the queue). */
  running: number;
  /** Parts that needed more than one attempt, whatever their status. */
  retried: number;
  bytesIn: number;
  bytesOut: number;
  /** Sum of finished − started over the parts that ran (each part's stored attempt), ms: the cost report's busy(stage). */
  busyMs?: number;
  firstStartedAt: Date | null;
  lastFinishedAt: Date | null;
  /** The stage run's own start and end (stage_runs). */
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

/** Progress of every stage of a job in one query, in the order the stages started. [] for an unknown job. */
export async function jobProgress(db: Queryable, jobId: string): Promise<StageProgress[]> {
  return (await jobsProgress(db, [jobId])).get(jobId) ?? [];
}

/** Progress of every stage of each of `jobIds` in one query (a page of the jobs list): job id → its stages, in the order they started. */
export async function jobsProgress(db: Queryable, jobIds: string[]): Promise<Map<string, StageProgress[]>> {
  const out = new Map<string, StageProgress[]>();
  if (jobIds.length === 0) return out;
  // Parts are counted per stage run, each from its own rows by key (an aggregate in a lateral
  // subquery): grouping a join of the jobs' parts made Postgres sort every part row (4 s for a
  // 1,000,000-part job), and joining the task_runs view could scan the whole table for a small job.
  const counted = [...PART_STATUSES.map((st) => PART_COUNTS[st]), 'running', 'retried'].map((c) => `coalesce(t."${c}", 0) AS "${c}"`).join(', ');
  const r = await db.query(
    `SELECT s.job_id, s.stage_id, s.status, s.task, s.mode, s.parts_total, s.started_at, s.finished_at, ${counted},
            coalesce(t.bytes_in, 0) AS bytes_in, coalesce(t.bytes_out, 0) AS bytes_out, coalesce(t.busy_ms, 0) AS busy_ms,
            t.first_started_at, t.last_finished_at
       FROM stage_runs s CROSS JOIN LATERAL (
         SELECT ${partCountColumns()},
                count(part) FILTER (WHERE status = 'queued' AND started_at IS NOT NULL)::int AS running,
                count(part) FILTER (WHERE attempt > 1)::int AS retried,
                sum(bytes_in)::float8 AS bytes_in,
                sum(bytes_out)::float8 AS bytes_out,
                sum(date_part('epoch', finished_at - started_at) * 1000) AS busy_ms,
                min(started_at) AS first_started_at,
                max(finished_at) AS last_finished_at
           FROM task_rows WHERE run_id = s.run_id) t
      WHERE s.job_id = ANY($1::text[])
      ORDER BY s.started_at NULLS LAST, s.stage_id`,
    [jobIds],
  );
  for (const x of r.rows) {
    const stages = out.get(x.job_id) ?? [];
    out.set(x.job_id, stages);
    stages.push({
      stageId: x.stage_id,
      status: x.status,
      task: x.task,
      mode: x.mode,
      partsTotal: x.parts_total,
      inFlight: x.inFlight,
      running: x.running,
      retryWaiting: x.retryWaiting,
      succeeded: x.succeeded,
      failed: x.failed,
      retried: x.retried,
      bytesIn: x.bytes_in,
      bytesOut: x.bytes_out,
      busyMs: x.busy_ms,
      firstStartedAt: x.first_started_at,
      lastFinishedAt: x.last_finished_at,
      startedAt: x.started_at,
      finishedAt: x.finished_at,
    });
  }
  // Compacted jobs count from their aggregates. Checked after the live read: a compaction committed
  // in between is seen here (aggregates.ts, liveOrCompacted).
  const compacted = await db.query<{ job_id: string }>(`SELECT job_id FROM jobs WHERE job_id = ANY($1::text[]) AND compacted_at IS NOT NULL`, [jobIds]);
  for (const { job_id: id } of compacted.rows) {
    const aggregates = await jobAggregates(db, id);
    if (aggregates) out.set(id, await compactedProgress(db, id, aggregates.progress));
  }
  return out;
}

/** A compacted job's progress: stage_runs as they are, the counts compaction kept (a stage without parts counts none). */
async function compactedProgress(db: Queryable, jobId: string, counts: StageProgressCounts[]): Promise<StageProgress[]> {
  const r = await db.query(
    `SELECT stage_id, status, task, mode, parts_total FROM stage_runs WHERE job_id = $1 ORDER BY started_at NULLS LAST, stage_id`,
    [jobId],
  );
  return r.rows.map((x) => {
    const c = counts.find((s) => s.stageId === x.stage_id);
    return {
      stageId: x.stage_id,
      status: x.status,
      task: x.task,
      mode: x.mode,
      partsTotal: x.parts_total,
      inFlight: c?.inFlight ?? 0,
      running: c?.running ?? 0,
      retryWaiting: c?.retryWaiting ?? 0,
      succeeded: c?.succeeded ?? 0,
      failed: c?.failed ?? 0,
      retried: c?.retried ?? 0,
      bytesIn: c?.bytesIn ?? 0,
      bytesOut: c?.bytesOut ?? 0,
      busyMs: c?.busyMs ?? 0,
      firstStartedAt: c?.firstStartedAt ?? null,
      lastFinishedAt: c?.lastFinishedAt ?? null,
    };
  });
}
