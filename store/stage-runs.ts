import type { QueryResultRow } from 'pg';
import { TERMINAL_STAGE_STATUSES, type StageMode, type StageStatus, type TerminalStatus } from '../common/status';
import { json, type Queryable } from './db';

export { TERMINAL_STAGE_STATUSES, type StageMode, type StageStatus } from '../common/status';

export interface StageRun {
  jobId: string;
  stageId: string;
  status: StageStatus;
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
  status?: StageStatus;
  task: string;
  mode: StageMode;
  partsTotal?: number | null;
  manifestKey?: string | null;
  completionQueueUrl?: string | null;
  /**
   * Whether the run's successes are numbered in the order they happen (task_rows.success_seq):
   * only when a stream stage reads them in that order. Default: false; once true it stays true.
   */
  successOrder?: boolean;
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
    `INSERT INTO stage_runs AS s (job_id, stage_id, status, task, mode, parts_total, manifest_key, completion_queue_url, success_order)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::boolean[])
     ON CONFLICT (job_id, stage_id) DO UPDATE SET
       status = CASE WHEN ${rank('excluded.status')} > ${rank('s.status')} THEN excluded.status ELSE s.status END,
       task = excluded.task,
       mode = excluded.mode,
       parts_total = coalesce(excluded.parts_total, s.parts_total),
       manifest_key = coalesce(excluded.manifest_key, s.manifest_key),
       completion_queue_url = coalesce(excluded.completion_queue_url, s.completion_queue_url),
       success_order = s.success_order OR excluded.success_order`,
    [
      runs.map((r) => r.jobId),
      runs.map((r) => r.stageId),
      runs.map((r) => r.status ?? 'pending'),
      runs.map((r) => r.task),
      runs.map((r) => r.mode),
      runs.map((r) => r.partsTotal ?? null),
      runs.map((r) => r.manifestKey ?? null),
      runs.map((r) => r.completionQueueUrl ?? null),
      runs.map((r) => r.successOrder ?? false),
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
  /** The stage activity attempt writing: nothing is written unless it owns the stage run (runner_attempt). */
  owner?: number;
}

/** Moves a stage run to `status` unless it is already terminal. Returns whether it was updated. */
export async function setStageRunStatus(
  db: Queryable,
  jobId: string,
  stageId: string,
  status: StageStatus,
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
      WHERE job_id = $1 AND stage_id = $2 AND NOT (status = ANY($11::text[])) AND ($12::int IS NULL OR runner_attempt = $12)`,
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
      update.owner ?? null,
    ],
  );
  return r.rowCount === 1;
}

/** The stage runs of a job, in the order they started (not yet started last, then by id). */
export async function getStageRuns(db: Queryable, jobId: string): Promise<StageRun[]> {
  const r = await db.query(`SELECT ${COLUMNS} FROM stage_runs WHERE job_id = $1 ORDER BY started_at NULLS LAST, stage_id`, [jobId]);
  return r.rows.map(toStageRun);
}

/** What a stage activity attempt finds when it claims its stage run. */
export interface StageClaim {
  /** False when a newer attempt already owns the stage: this one is stale and must not write. */
  claimed: boolean;
  status: StageStatus | undefined;
  /** The stored outcome of a stage that already finished (succeeded or failed). */
  summary: unknown;
}

/**
 * Makes attempt `attempt` of the stage activity the owner of a stage run, unless a newer one is.
 * Returns the run's status and summary, so an attempt that finds its stage already finished
 * (its result lost on the way to Temporal) returns that outcome instead of running it again.
 */
export async function claimStageRun(db: Queryable, jobId: string, stageId: string, attempt: number): Promise<StageClaim> {
  const r = await db.query(
    `WITH claim AS (
       UPDATE stage_runs SET runner_attempt = $3
        WHERE job_id = $1 AND stage_id = $2 AND (runner_attempt IS NULL OR runner_attempt <= $3)
        RETURNING status, summary)
     SELECT true AS claimed, status, summary FROM claim
     UNION ALL
     SELECT false, status, summary FROM stage_runs WHERE job_id = $1 AND stage_id = $2 AND NOT EXISTS (SELECT 1 FROM claim)`,
    [jobId, stageId, attempt],
  );
  const row = r.rows[0];
  return { claimed: row?.claimed ?? false, status: row?.status, summary: row?.summary ?? null };
}

/**
 * What a running stage checks every second: its job's status, which attempt owns the stage, and
 * the job's window when `batchgrid tune` changed it (null: the definition's).
 */
export async function stageRunnerState(db: Queryable, jobId: string, stageId: string): Promise<{ jobStatus: string | undefined; runnerAttempt: number | null; concurrency: number | null }> {
  const r = await db.query(
    `SELECT j.status AS job_status, s.runner_attempt, j.concurrency FROM jobs j LEFT JOIN stage_runs s ON s.job_id = j.job_id AND s.stage_id = $2 WHERE j.job_id = $1`,
    [jobId, stageId],
  );
  return { jobStatus: r.rows[0]?.job_status, runnerAttempt: r.rows[0]?.runner_attempt ?? null, concurrency: r.rows[0]?.concurrency ?? null };
}

/** The status of one stage run, if it exists. */
export async function stageRunStatus(db: Queryable, jobId: string, stageId: string): Promise<StageStatus | undefined> {
  const r = await db.query('SELECT status FROM stage_runs WHERE job_id = $1 AND stage_id = $2', [jobId, stageId]);
  return r.rows[0]?.status;
}

/**
 * Ends a stage run that is not over yet with `status` (a stage cancelled while planning, or one
 * whose activity failed), creating the row if planning never recorded it. A finished run keeps
 * its outcome. Safe to replay.
 */
export async function closeStageRun(db: Queryable, run: { jobId: string; stageId: string; task: string; mode: StageMode; status: TerminalStatus; error?: string }): Promise<void> {
  await db.query(
    `INSERT INTO stage_runs AS s (job_id, stage_id, status, task, mode, finished_at, error)
     VALUES ($1, $2, $3, $4, $5, now(), $6)
     ON CONFLICT (job_id, stage_id) DO UPDATE SET
       status = CASE WHEN s.status = ANY($7::text[]) THEN s.status ELSE excluded.status END,
       finished_at = coalesce(s.finished_at, excluded.finished_at),
       error = CASE WHEN s.status = ANY($7::text[]) THEN s.error ELSE coalesce(s.error, excluded.error) END`,
    [run.jobId, run.stageId, run.status, run.task, run.mode, run.error ?? null, TERMINAL_STAGE_STATUSES],
  );
}

/** Ends every stage run of a job that is not over yet (the job's workflow ended without closing them). */
export async function closeOpenStageRuns(db: Queryable, jobId: string, status: 'failed' | 'cancelled', error: string): Promise<number> {
  const r = await db.query(
    `UPDATE stage_runs SET status = $2, error = coalesce(error, $3), finished_at = coalesce(finished_at, now())
      WHERE job_id = $1 AND NOT (status = ANY($4::text[]))`,
    [jobId, status, error, TERMINAL_STAGE_STATUSES],
  );
  return r.rowCount ?? 0;
}
