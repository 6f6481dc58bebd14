import type { Queryable } from './db';
import type { PartCountName, StageMode, StageStatus } from '../common/status';
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
  firstStartedAt: Date | null;
  lastFinishedAt: Date | null;
}

/** Progress of every stage of a job in one query, in the order the stages started. [] for an unknown job. */
export async function jobProgress(db: Queryable, jobId: string): Promise<StageProgress[]> {
  const live = await liveProgress(db, jobId);
  // Checked after the live read: a compaction committed in between is seen here (aggregates.ts, liveOrCompacted).
  const compacted = await jobAggregates(db, jobId);
  return compacted ? compactedProgress(db, jobId, compacted.progress) : live;
}

async function liveProgress(db: Queryable, jobId: string): Promise<StageProgress[]> {
  const r = await db.query(
    `SELECT s.stage_id, s.status, s.task, s.mode, s.parts_total,
            ${partCountColumns('t.')},
            count(t.part) FILTER (WHERE t.status = 'queued' AND t.started_at IS NOT NULL)::int AS running,
            count(t.part) FILTER (WHERE t.attempt > 1)::int AS retried,
            coalesce(sum(t.bytes_in), 0)::float8 AS bytes_in,
            coalesce(sum(t.bytes_out), 0)::float8 AS bytes_out,
            min(t.started_at) AS first_started_at,
            max(t.finished_at) AS last_finished_at
       FROM stage_runs s LEFT JOIN task_runs t ON t.job_id = s.job_id AND t.stage_id = s.stage_id
      WHERE s.job_id = $1
      GROUP BY s.job_id, s.stage_id
      ORDER BY s.started_at NULLS LAST, s.stage_id`,
    [jobId],
  );
  return r.rows.map((x) => ({
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
    firstStartedAt: x.first_started_at,
    lastFinishedAt: x.last_finished_at,
  }));
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
      firstStartedAt: c?.firstStartedAt ?? null,
      lastFinishedAt: c?.lastFinishedAt ?? null,
    };
  });
}
