import type { JobTune } from '../pipeline/tune';
import type { PipelineDef, Tolerance } from '../pipeline/types';
import type { QueryResultRow } from 'pg';
import { TERMINAL_JOB_STATUSES, type JobStatus } from '../common/status';
import { json, type Queryable } from './db';

export type { JobStatus } from '../common/status';

export interface Job {
  jobId: string;
  pipelineName: string;
  definition: PipelineDef;
  status: JobStatus;
  bucket: string;
  /** S3 key prefix of the raw input, e.g. `jobs/<id>/input/`. */
  inputPrefix: string;
  workflowId: string;
  parentJobId: string | null;
  fleet: string;
  /** The job's weight in its fleets' fair share (pipeline `priority`, the submit's, or as tuned). */
  priority: number;
  /** Its window: the definition's `concurrency`, or as tuned. */
  concurrency: number;
  /** Failed parts every stage tolerates, when tuned (null: each stage's own `tolerate`). */
  tolerate: Tolerance | null;
  createdAt: Date;
  /** When a scheduled job should start, if not right away. */
  startAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  summary: unknown;
  error: string | null;
}

export interface NewJob {
  jobId: string;
  pipelineName: string;
  definition: PipelineDef;
  /** Default: `scheduled`. */
  status?: JobStatus;
  bucket: string;
  inputPrefix: string;
  workflowId: string;
  parentJobId?: string | null;
  fleet: string;
  /** Default: now (stored to the millisecond). */
  createdAt?: Date;
  startAt?: Date | null;
}

const COLUMNS = `job_id, pipeline_name, definition, status, bucket, input_prefix, workflow_id, parent_job_id, fleet, priority,
  coalesce(concurrency, (definition->>'concurrency')::int) AS concurrency, tolerate, created_at, start_at, started_at, finished_at, summary, error`;

function toJob(r: QueryResultRow): Job {
  return {
    jobId: r.job_id,
    pipelineName: r.pipeline_name,
    definition: r.definition,
    status: r.status,
    bucket: r.bucket,
    inputPrefix: r.input_prefix,
    workflowId: r.workflow_id,
    parentJobId: r.parent_job_id,
    fleet: r.fleet,
    priority: r.priority,
    concurrency: r.concurrency,
    tolerate: r.tolerate,
    createdAt: r.created_at,
    startAt: r.start_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    summary: r.summary,
    error: r.error,
  };
}

/**
 * Records a job; idempotent on jobId. Returns false when the job already existed (nothing
 * changed). Its priority is its definition's.
 */
export async function insertJob(db: Queryable, job: NewJob): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO jobs (job_id, pipeline_name, definition, status, bucket, input_prefix, workflow_id, parent_job_id, fleet, created_at, start_at, priority)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()), $11, $12)
     ON CONFLICT (job_id) DO NOTHING`,
    [
      job.jobId,
      job.pipelineName,
      json(job.definition),
      job.status ?? 'scheduled',
      job.bucket,
      job.inputPrefix,
      job.workflowId,
      job.parentJobId ?? null,
      job.fleet,
      job.createdAt ?? null,
      job.startAt ?? null,
      job.definition.priority ?? 1,
    ],
  );
  return r.rowCount === 1;
}

/** Applies a tune to a job not finished yet; false when it has finished (or is not known). */
export async function tuneJob(db: Queryable, jobId: string, tune: JobTune): Promise<boolean> {
  const r = await db.query(
    `UPDATE jobs SET concurrency = coalesce($2, concurrency), priority = coalesce($3, priority), tolerate = coalesce($4::jsonb, tolerate)
      WHERE job_id = $1 AND NOT (status = ANY($5::text[]))`,
    [jobId, tune.concurrency ?? null, tune.priority ?? null, json(tune.tolerate), TERMINAL_JOB_STATUSES],
  );
  return r.rowCount === 1;
}

/** The failed parts every stage of the job tolerates, when tuned; null: each stage's own. */
export async function jobTolerance(db: Queryable, jobId: string): Promise<Tolerance | null> {
  const r = await db.query('SELECT tolerate FROM jobs WHERE job_id = $1', [jobId]);
  return r.rows[0]?.tolerate ?? null;
}

/** The job, or undefined when it is not known. */
export async function getJob(db: Queryable, jobId: string): Promise<Job | undefined> {
  const r = await db.query(`SELECT ${COLUMNS} FROM jobs WHERE job_id = $1`, [jobId]);
  return r.rows.length === 0 ? undefined : toJob(r.rows[0]);
}

export interface ListJobsOptions {
  pipeline?: string;
  status?: JobStatus | JobStatus[];
  /** Only jobs whose fleet (the pipeline's) is this one. */
  fleet?: string;
  /** Only jobs whose id starts with this text. */
  idPrefix?: string;
  /** Page size. Default: 50. */
  limit?: number;
  /** Cursor: only jobs older than this one (pass the last job of the previous page). */
  before?: Pick<Job, 'createdAt' | 'jobId'>;
}

/** Jobs newest first (created_at, then job_id, descending), filtered and paged by cursor. */
export async function listJobs(db: Queryable, options: ListJobsOptions = {}): Promise<Job[]> {
  const { pipeline, status, fleet, idPrefix, limit = 50, before } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}.`);
  const where: string[] = [];
  const values: unknown[] = [];
  if (pipeline !== undefined) {
    values.push(pipeline);
    where.push(`pipeline_name = $${values.length}`);
  }
  if (status !== undefined) {
    values.push(Array.isArray(status) ? status : [status]);
    where.push(`status = ANY($${values.length}::text[])`);
  }
  if (fleet !== undefined) {
    values.push(fleet);
    where.push(`fleet = $${values.length}`);
  }
  if (idPrefix !== undefined) {
    // LIKE's own characters are escaped: the prefix is matched as written.
    values.push(`${idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`job_id LIKE $${values.length}`);
  }
  if (before !== undefined) {
    values.push(before.createdAt, before.jobId);
    where.push(`(created_at, job_id) < ($${values.length - 1}::timestamptz, $${values.length}::text)`);
  }
  values.push(limit);
  const r = await db.query(
    `SELECT ${COLUMNS} FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, job_id DESC LIMIT $${values.length}`,
    values,
  );
  return r.rows.map(toJob);
}

export interface JobStatusUpdate {
  error?: string;
  summary?: unknown;
  /** Default: now, when the status is `running` and the job has not started before (the first start is kept). */
  startedAt?: Date;
  /** Default: now, when the status is terminal. */
  finishedAt?: Date;
}

/**
 * Moves a job to `status`, unless it is already terminal (succeeded, failed, cancelled), which it
 * never leaves. Returns whether the job was updated.
 */
export async function setJobStatus(db: Queryable, jobId: string, status: JobStatus, update: JobStatusUpdate = {}): Promise<boolean> {
  const r = await db.query(
    `UPDATE jobs SET status = $2,
            error = coalesce($3, error),
            summary = coalesce($4::jsonb, summary),
            started_at = coalesce(started_at, $5, CASE WHEN $2 = 'running' THEN now() END),
            finished_at = coalesce($6, CASE WHEN $2 = ANY($7::text[]) THEN now() END, finished_at)
      WHERE job_id = $1 AND NOT (status = ANY($7::text[]))`,
    [jobId, status, update.error ?? null, json(update.summary), update.startedAt ?? null, update.finishedAt ?? null, TERMINAL_JOB_STATUSES],
  );
  return r.rowCount === 1;
}

/**
 * Ends as failed, with `error`, the job recorded for this workflow (same job id *and* workflow id,
 * so a refused start that names another job's id changes nothing), unless it already ended.
 */
export async function failJobOfWorkflow(db: Queryable, jobId: string, workflowId: string, error: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE jobs SET status = 'failed', error = $3, finished_at = now()
      WHERE job_id = $1 AND workflow_id = $2 AND NOT (status = ANY($4::text[]))`,
    [jobId, workflowId, error, TERMINAL_JOB_STATUSES],
  );
  return r.rowCount === 1;
}

/** A submit's hold on a job id (table job_claims): only its holder uploads and records the job. */
export interface JobClaim {
  jobId: string;
  token: string;
  /** Hash of the compiled definition and the input: equal for an idempotent resubmit. */
  fingerprint: string;
  /** `submitting`: being uploaded and started; `submitted`: the job was recorded and started. */
  state: 'submitting' | 'submitted';
  claimedAt: Date;
}

/**
 * Claims `jobId` for one submit, atomically: returns true for exactly one of several callers at
 * once. Refused while a job row has the id, while another `submitting` claim was renewed within
 * `ttlMs`; a lapsed `submitting` claim (its submitter crashed) is taken over, and so is a
 * `submitted` one whose job row is gone.
 */
export async function claimJobId(db: Queryable, claim: { jobId: string; token: string; fingerprint: string }, ttlMs: number): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO job_claims AS c (job_id, token, fingerprint, state, claimed_at)
     SELECT $1, $2, $3, 'submitting', now() WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE job_id = $1)
     ON CONFLICT (job_id) DO UPDATE SET token = EXCLUDED.token, fingerprint = EXCLUDED.fingerprint, claimed_at = now()
      WHERE (c.state = 'submitted' OR c.claimed_at < now() - make_interval(secs => $4::float8 / 1000))
        AND NOT EXISTS (SELECT 1 FROM jobs WHERE job_id = $1)
     RETURNING job_id`,
    [claim.jobId, claim.token, claim.fingerprint, ttlMs],
  );
  return r.rowCount === 1;
}

/** Renews a `submitting` claim held with `token`; false when it was lost (lapsed and taken over). */
export async function renewJobClaim(db: Queryable, jobId: string, token: string): Promise<boolean> {
  const r = await db.query(`UPDATE job_claims SET claimed_at = now() WHERE job_id = $1 AND token = $2 AND state = 'submitting'`, [jobId, token]);
  return r.rowCount === 1;
}

/** Marks the claim held with `token` `submitted` (its job is recorded and started); false when it was lost. */
export async function completeJobClaim(db: Queryable, jobId: string, token: string): Promise<boolean> {
  const r = await db.query(`UPDATE job_claims SET state = 'submitted', claimed_at = now() WHERE job_id = $1 AND token = $2`, [jobId, token]);
  return r.rowCount === 1;
}

/** Gives up the claim held with `token`, so the id can be claimed again at once. */
export async function releaseJobClaim(db: Queryable, jobId: string, token: string): Promise<void> {
  await db.query(`DELETE FROM job_claims WHERE job_id = $1 AND token = $2`, [jobId, token]);
}

/** The claim on `jobId`, or undefined (ids of jobs recorded before claims existed, retry jobs, scheduled runs have none). */
export async function getJobClaim(db: Queryable, jobId: string): Promise<JobClaim | undefined> {
  const r = await db.query(`SELECT job_id, token, fingerprint, state, claimed_at FROM job_claims WHERE job_id = $1`, [jobId]);
  const row = r.rows[0];
  return row ? { jobId: row.job_id, token: row.token, fingerprint: row.fingerprint, state: row.state, claimedAt: row.claimed_at } : undefined;
}

/**
 * Removes a job whose workflow never started (still `scheduled`, no stage has run), so its id
 * can be used again. Returns whether a row was removed.
 */
export async function deleteUnstartedJob(db: Queryable, jobId: string): Promise<boolean> {
  const r = await db.query(
    `DELETE FROM jobs WHERE job_id = $1 AND status = 'scheduled' AND started_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM stage_runs WHERE job_id = $1)`,
    [jobId],
  );
  return r.rowCount === 1;
}
