import type { OutputRef, InputRef, TaskErrorInfo } from '../common/messages';
import type { PartStatus } from '../common/status';
import type { Queryable } from './db';

/** One attempt of a part as stored: a failed one from task_attempts, the latest from task_runs. */
export interface StoredAttempt {
  attempt: number;
  /** `failed` attempts were retried when `retryAt` is set; `queued` is in flight. */
  status: PartStatus;
  workerId: string | null;
  sentAt: Date | null;
  receivedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  bytesIn: number;
  bytesOut: number;
  outputs: OutputRef[];
  error: TaskErrorInfo | null;
  retryAt: Date | null;
}

/** A part of a stage run: its row in task_runs and every attempt, oldest first. */
export interface StoredPart {
  part: number;
  status: PartStatus;
  attempt: number;
  inputs: InputRef[];
  inputsKey: string | null;
  outputs: OutputRef[];
  result: unknown;
  attempts: StoredAttempt[];
}

const ATTEMPT_COLUMNS = `worker_id, sent_at, received_at, started_at, finished_at, bytes_in, bytes_out, outputs, error, retry_at`;

function toAttempt(r: Record<string, unknown>, status: PartStatus): StoredAttempt {
  return {
    attempt: r.attempt as number,
    status,
    workerId: (r.worker_id as string | null) ?? null,
    sentAt: (r.sent_at as Date | null) ?? null,
    receivedAt: (r.received_at as Date | null) ?? null,
    startedAt: (r.started_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
    bytesIn: Number(r.bytes_in ?? 0),
    bytesOut: Number(r.bytes_out ?? 0),
    outputs: (r.outputs as OutputRef[] | null) ?? [],
    error: (r.error as TaskErrorInfo | null) ?? null,
    retryAt: (r.retry_at as Date | null) ?? null,
  };
}

/**
 * A part with its attempts, or undefined when the stage run has no such part (not planned, not
 * sent yet). The latest attempt comes from task_runs; earlier failures from task_attempts.
 */
export async function getPart(db: Queryable, jobId: string, stageId: string, part: number): Promise<StoredPart | undefined> {
  const r = await db.query(`SELECT part, attempt, status, inputs, inputs_key, result, ${ATTEMPT_COLUMNS} FROM task_runs WHERE job_id = $1 AND stage_id = $2 AND part = $3`, [jobId, stageId, part]);
  const row = r.rows[0];
  if (!row) return undefined;
  const earlier = await db.query(`SELECT attempt, ${ATTEMPT_COLUMNS} FROM task_attempts WHERE job_id = $1 AND stage_id = $2 AND part = $3 ORDER BY attempt`, [jobId, stageId, part]);
  const attempts = earlier.rows.map((a) => toAttempt(a, 'failed'));
  // The row's attempt is already in task_attempts when it failed; otherwise (succeeded, in flight) the row is that attempt.
  if (!attempts.some((a) => a.attempt === row.attempt)) attempts.push(toAttempt(row, row.status));
  attempts.sort((a, b) => a.attempt - b.attempt);
  return {
    part: row.part,
    status: row.status,
    attempt: row.attempt,
    inputs: row.inputs ?? [],
    inputsKey: row.inputs_key ?? null,
    outputs: row.status === 'succeeded' ? (row.outputs ?? []) : [],
    result: row.result ?? null,
    attempts,
  };
}
