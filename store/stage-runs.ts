import type { QueryResultRow } from 'pg';
import { json, type Queryable } from './db';

export type StageRunStatus = 'pending' | 'planning' | 'running' | 'succeeded' | 'failed' | 'cancelled';
/** How a stage gets its parts: from the job input, or chained from upstream (barrier, stream, gather). */
export type StageMode = 'barrier' | 'stream' | 'gather' | 'input';

/** Statuses a stage run never leaves. */
export const TERMINAL_STAGE_STATUSES: readonly StageRunStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface StageRun {
  jobId: string;
  stageId: string;
  status: StageRunStatus;
  task: string;
  mode: StageMode;
  partsTotal: number | null;
  /** S3 key of the part manifest (JSON Lines). */
  manifestKey: string | null;
  completionQueueUrl: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  summary: unknown;
  error: string | null;
}

export interface StageRunInput {
  jobId: string;
  stageId: string;
  /** Default: `pending`. */
  status?: StageRunStatus;
  task: string;
  mode: StageMode;
  partsTotal?: number | null;
  manifestKey?: string | null;
  completionQueueUrl?: string | null;
}

const COLUMNS = `job_id, stage_id, status, task, mode, parts_total, manifest_key, completion_queue_url, started_at, finished_at, summary, error`;

function toStageRun(r: QueryResultRow): StageRun {
  return {
    jobId: r.job_id,
    stageId: r.stage_id,
    status: r.status,
    task: r.task,
    mode: r.mode,
    partsTotal: r.parts_total,
    manifestKey: r.manifest_key,
    completionQueueUrl: r.completion_queue_url,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    summary: r.summary,
    error: r.error,
  };
}

/** Status order for upserts: pending < planning < running < terminal. */
const rank = (col: string) => `CASE ${col} WHEN 'pending' THEN 0 WHEN 'planning' THEN 1 WHEN 'running' THEN 2 ELSE 3 END`;

/**
 * Creates stage runs, or updates existing ones, in one statement. Safe to replay: the status only
 * moves forward (pending → planning → running → terminal), and fields not given keep their value.
 */
export async function upsertStageRuns(db: Queryable, runs: StageRunInput[]): Promise<void> {
  if (runs.length === 0) return;
  // One statement cannot update a row twice: the last entry for a stage wins.
  runs = [...new Map(runs.map((r) => [`${r.jobId}\u0000${r.stageId}`, r])).values()];
  await db.query(
    `INSERT INTO stage_runs AS s (job_id, stage_id, status, task, mode, parts_total, manifest_key, completion_queue_url)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
     ON CONFLICT (job_id, stage_id) DO UPDATE SET
       status = CASE WHEN ${rank('excluded.status')} > ${rank('s.status')} THEN excluded.status ELSE s.status END,
       task = excluded.task,
       mode = excluded.mode,
       parts_total = coalesce(excluded.parts_total, s.parts_total),
       manifest_key = coalesce(excluded.manifest_key, s.manifest_key),
       completion_queue_url = coalesce(excluded.completion_queue_url, s.completion_queue_url)`,
    [
      runs.map((r) => r.jobId),
      runs.map((r) => r.stageId),
      runs.map((r) => r.status ?? 'pending'),
      runs.map((r) => r.task),
      runs.map((r) => r.mode),
      runs.map((r) => r.partsTotal ?? null),
      runs.map((r) => r.manifestKey ?? null),
      runs.map((r) => r.completionQueueUrl ?? null),
    ],
  );
}

/** One stage run: see upsertStageRuns. */
export async function upsertStageRun(db: Queryable, run: StageRunInput): Promise<void> {
  await upsertStageRuns(db, [run]);
}

export interface StageRunStatusUpdate {
  error?: string;
  summary?: unknown;
  partsTotal?: number;
  manifestKey?: string;
  completionQueueUrl?: string;
  /** Default: now, when the status is `planning` or `running` and the stage has not started before. */
  startedAt?: Date;
  /** Default: now, when the status is terminal. */
  finishedAt?: Date;
}

/** Moves a stage run to `status` unless it is already terminal. Returns whether it was updated. */
export async function setStageRunStatus(
  db: Queryable,
  jobId: string,
  stageId: string,
  status: StageRunStatus,
  update: StageRunStatusUpdate = {},
): Promise<boolean> {
  const r = await db.query(
    `UPDATE stage_runs SET status = $3,
            error = coalesce($4, error),
            summary = coalesce($5::jsonb, summary),
            parts_total = coalesce($6, parts_total),
            manifest_key = coalesce($7, manifest_key),
            completion_queue_url = coalesce($8, completion_queue_url),
            started_at = coalesce(started_at, $9, CASE WHEN $3 IN ('planning', 'running') THEN now() END),
            finished_at = coalesce($10, CASE WHEN $3 = ANY($11::text[]) THEN now() END, finished_at)
      WHERE job_id = $1 AND stage_id = $2 AND NOT (status = ANY($11::text[]))`,
    [
      jobId,
      stageId,
      status,
      update.error ?? null,
      json(update.summary),
      update.partsTotal ?? null,
      update.manifestKey ?? null,
      update.completionQueueUrl ?? null,
      update.startedAt ?? null,
      update.finishedAt ?? null,
      TERMINAL_STAGE_STATUSES,
    ],
  );
  return r.rowCount === 1;
}

/** The stage runs of a job, in the order they started (not yet started last, then by id). */
export async function getStageRuns(db: Queryable, jobId: string): Promise<StageRun[]> {
  const r = await db.query(`SELECT ${COLUMNS} FROM stage_runs WHERE job_id = $1 ORDER BY started_at NULLS LAST, stage_id`, [jobId]);
  return r.rows.map(toStageRun);
}
