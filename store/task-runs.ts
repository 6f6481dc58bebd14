import type { Queryable } from './db';
import type { InputRef, OutputRef, PartResult, TaskErrorInfo } from '../common/messages';
import { PART_COUNTS, PART_STATUSES, type OpenPartStatus, type PartCountName, type PartStatus } from '../common/status';
import { stageRunnerState } from './stage-runs';

type Db = Queryable;

/**
 * task_rows holds one row per part of a stage run: the engine's durable per-part state, keyed by
 * the stage run's integer run_id and the part (migration 012; the view task_runs adds job_id and
 * stage_id for readers). Every write is a single statement per batch and is guarded so that
 * replays (duplicate completions, a retried activity, a stale attempt) change nothing: counts are
 * derived from these rows, never from increments. The hot paths here read and write task_rows,
 * resolving run_id once per statement.
 */

/** SQL: the run_id of the stage run (job `$job`, stage `$stage`), evaluated once per statement (an InitPlan). */
export const runIdOf = (job: string, stage: string) => `(SELECT run_id FROM stage_runs WHERE job_id = ${job} AND stage_id = ${stage})`;

/**
 * The fence of a stage activity attempt's writes: true while `attempt` (a parameter, NULL for a
 * writer that is no stage attempt) owns the stage run (stage_runs.runner_attempt). The share lock
 * holds a newer attempt's claim until the write commits, so the claimer reads the stage after it:
 * a stale attempt (a frozen orchestrator woken by SIGCONT) writes nothing, and nothing it wrote is
 * missing from the window its successor rebuilt.
 */
const ownedBy = (job: string, stage: string, attempt: string) =>
  `(${attempt}::int IS NULL OR EXISTS (SELECT 1 FROM stage_runs WHERE job_id = ${job} AND stage_id = ${stage} AND runner_attempt = ${attempt} FOR SHARE))`;

export type { PartStatus } from '../common/status';

/**
 * The select-list counting parts per status, one int column per PART_COUNTS name (`"inFlight"` for
 * `queued`…). `prefix` qualifies the columns, e.g. `t.` in a join.
 */
export function partCountColumns(prefix = ''): string {
  return PART_STATUSES.map((s) => `count(${prefix}part) FILTER (WHERE ${prefix}status = '${s}')::int AS "${PART_COUNTS[s]}"`).join(',\n            ');
}

export interface QueuedPart {
  part: number;
  attempt: number;
  sentAt: number;
  deadlineAt: number;
  /** The part's inputs, kept so a retry (even after a restart) can resend them. */
  inputs: InputRef[];
  inputsKey?: string;
}

/**
 * Marks parts as sent (attempt n), before their messages go out; a final part is never reopened.
 * With `owner` (the stage activity attempt writing), nothing is written unless it owns the stage run;
 * returns false then.
 */
export async function markQueued(db: Db, jobId: string, stageId: string, parts: QueuedPart[], owner?: number): Promise<boolean> {
  if (parts.length === 0) return true;
  const rows = parts.map((p) => ({ part: p.part, attempt: p.attempt, sent_at: p.sentAt, deadline_at: p.deadlineAt, inputs: p.inputs, inputs_key: p.inputsKey ?? null }));
  const r = await db.query(
    `INSERT INTO task_rows (run_id, part, attempt, status, sent_at, deadline_at, inputs, inputs_key)
     SELECT ${runIdOf('$1', '$2')}, r.part, r.attempt, 'queued', to_timestamp(r.sent_at / 1000.0), to_timestamp(r.deadline_at / 1000.0), r.inputs, r.inputs_key
       FROM jsonb_to_recordset($3::jsonb) AS r(part int, attempt int, sent_at float8, deadline_at float8, inputs jsonb, inputs_key text)
      WHERE ${ownedBy('$1', '$2', '$4')}
     ON CONFLICT (run_id, part) DO UPDATE
        SET attempt = EXCLUDED.attempt, status = 'queued', sent_at = EXCLUDED.sent_at, started_at = NULL,
            deadline_at = EXCLUDED.deadline_at, retry_at = NULL
      WHERE task_rows.status IN ('queued', 'retry_wait') AND task_rows.attempt <= EXCLUDED.attempt
     RETURNING 1`,
    [jobId, stageId, JSON.stringify(rows), owner ?? null],
  );
  return owner === undefined || (r.rowCount ?? 0) > 0 || (await ownsStage(db, jobId, stageId, owner));
}

/** True while `attempt` owns the stage run: a write that changed nothing was a duplicate, not fenced out. */
const ownsStage = async (db: Db, jobId: string, stageId: string, attempt: number) => (await stageRunnerState(db, jobId, stageId)).runnerAttempt === attempt;

/** What a failure turns into, decided by the caller from the stage's retry policy. */
export interface FailureDecision {
  result: PartResult;
  workerId: string;
  /** Epoch ms of the next attempt, or undefined when the part has finally failed. */
  retryAt?: number;
}

export interface Transition {
  part: number;
  attempt: number;
  status: PartStatus;
}

const resultColumns = `part int, attempt int, worker_id text, sent_at float8, received_at float8, started_at float8,
  finished_at float8, bytes_in bigint, bytes_out bigint, outputs jsonb, result jsonb, error jsonb, retry_at float8, cached_ms int`;

function row(r: PartResult, workerId: string, retryAt?: number) {
  return {
    part: r.part,
    attempt: r.attempt,
    worker_id: workerId,
    sent_at: r.sentAt,
    received_at: r.receivedAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    outputs: r.outputs ?? [],
    result: r.result ?? null,
    error: r.error ?? null,
    retry_at: retryAt ?? null,
    cached_ms: r.cachedRunMs ?? null,
  };
}

const ts = (col: string) => `CASE WHEN r.${col} IS NULL THEN NULL ELSE to_timestamp(r.${col} / 1000.0) END`;

/**
 * Applies completions in one transaction and returns the transitions that really happened.
 * A success is accepted from any attempt while the part is still open (first success wins);
 * a failure only for the attempt currently outstanding. Duplicates return nothing. A success
 * drops the part's inputs: a succeeded part is never sent again (store/parts.ts tells where they
 * came from); a failed one keeps them for its retries and for retry jobs. With `owner` (the
 * stage activity attempt applying), nothing is written unless it owns the stage run: null then.
 */
export async function applyResults(
  db: Db,
  jobId: string,
  stageId: string,
  successes: { result: PartResult; workerId: string }[],
  failures: FailureDecision[],
  owner?: number,
): Promise<Transition[] | null> {
  const out: Transition[] = [];
  if (successes.length > 0) {
    const rows = successes.map((s) => row(s.result, s.workerId));
    const r = await db.query<{ part: number; attempt: number }>(
      `UPDATE task_rows t SET status = 'succeeded', attempt = r.attempt, worker_id = r.worker_id,
              received_at = ${ts('received_at')}, started_at = ${ts('started_at')}, finished_at = ${ts('finished_at')},
              bytes_in = r.bytes_in, bytes_out = r.bytes_out, outputs = r.outputs, result = r.result, error = NULL, cached_ms = r.cached_ms,
              deadline_at = NULL, retry_at = NULL, inputs = NULL, inputs_key = NULL,
              success_seq = CASE WHEN (SELECT success_order FROM stage_runs WHERE job_id = $1 AND stage_id = $2) THEN nextval('task_runs_success_seq') END
         FROM (SELECT DISTINCT ON (part) * FROM jsonb_to_recordset($3::jsonb) AS x(${resultColumns}) ORDER BY part, attempt) r
        WHERE t.run_id = ${runIdOf('$1', '$2')} AND t.part = r.part AND t.status IN ('queued', 'retry_wait') AND ${ownedBy('$1', '$2', '$4')}
        RETURNING t.part, t.attempt`,
      [jobId, stageId, JSON.stringify(rows), owner ?? null],
    );
    for (const x of r.rows) out.push({ part: x.part, attempt: x.attempt, status: 'succeeded' });
  }
  if (failures.length > 0) {
    const rows = failures.map((f) => row(f.result, f.workerId, f.retryAt));
    // The failure that applies is also kept as an attempt of its own (task_attempts), with the row's send time: the retry overwrites the row.
    const r = await db.query<{ part: number; attempt: number; status: PartStatus }>(
      `WITH r AS (SELECT DISTINCT ON (part, attempt) * FROM jsonb_to_recordset($3::jsonb) AS x(${resultColumns})),
            u AS (
              UPDATE task_rows t SET status = CASE WHEN r.retry_at IS NULL THEN 'failed' ELSE 'retry_wait' END,
                     worker_id = r.worker_id, received_at = ${ts('received_at')}, started_at = ${ts('started_at')},
                     finished_at = ${ts('finished_at')}, bytes_in = r.bytes_in, bytes_out = r.bytes_out, error = r.error,
                     deadline_at = NULL, retry_at = ${ts('retry_at')}
                FROM r
               WHERE t.run_id = ${runIdOf('$1', '$2')} AND t.part = r.part AND t.attempt = r.attempt AND t.status = 'queued' AND ${ownedBy('$1', '$2', '$4')}
               RETURNING t.part, t.attempt, t.status, t.sent_at),
            a AS (
              INSERT INTO task_attempts (job_id, stage_id, part, attempt, worker_id, sent_at, received_at, started_at, finished_at, bytes_in, bytes_out, outputs, error, retry_at)
              SELECT $1, $2, r.part, r.attempt, r.worker_id, u.sent_at, ${ts('received_at')}, ${ts('started_at')}, ${ts('finished_at')},
                     r.bytes_in, r.bytes_out, r.outputs, r.error, ${ts('retry_at')}
                FROM r JOIN u ON u.part = r.part AND u.attempt = r.attempt
              ON CONFLICT DO NOTHING)
       SELECT part, attempt, status FROM u`,
      [jobId, stageId, JSON.stringify(rows), owner ?? null],
    );
    for (const x of r.rows) out.push({ part: x.part, attempt: x.attempt, status: x.status });
  }
  if (out.length === 0 && owner !== undefined && successes.length + failures.length > 0 && !(await ownsStage(db, jobId, stageId, owner))) return null;
  return out;
}

export interface OpenPart {
  part: number;
  attempt: number;
  inputs: InputRef[];
  inputsKey?: string;
  status: OpenPartStatus;
  deadlineAt?: number;
  retryAt?: number;
  /** Epoch ms the attempt was sent, and when a worker said it started it (queued parts only). */
  sentAt?: number;
  startedAt?: number;
}

/** The parts of a stage run still open, to rebuild the in-memory window after a restart. */
export async function openParts(db: Db, jobId: string, stageId: string): Promise<OpenPart[]> {
  const r = await db.query(
    `SELECT part, attempt, status, inputs, inputs_key, extract(epoch from deadline_at) * 1000 AS deadline, extract(epoch from retry_at) * 1000 AS retry,
            extract(epoch from sent_at) * 1000 AS sent, extract(epoch from started_at) * 1000 AS started
       FROM task_rows WHERE run_id = ${runIdOf('$1', '$2')} AND status IN ('queued', 'retry_wait')`,
    [jobId, stageId],
  );
  return r.rows.map((x) => ({
    part: x.part,
    attempt: x.attempt,
    status: x.status,
    inputs: x.inputs ?? [],
    inputsKey: x.inputs_key ?? undefined,
    deadlineAt: x.deadline === null ? undefined : Number(x.deadline),
    retryAt: x.retry === null ? undefined : Number(x.retry),
    sentAt: x.sent === null ? undefined : Number(x.sent),
    startedAt: x.started === null ? undefined : Number(x.started),
  }));
}

/** A stage run's parts: per status (named as PART_COUNTS says), in all, and retried. */
export interface StageCounts extends Record<PartCountName, number> {
  total: number;
  retried: number;
  /** Highest part number seen, or -1: parts are dispatched in manifest order, so this is the resume cursor. */
  maxPart: number;
}

/** Counts derived from stored state (never from increments). */
export async function stageCounts(db: Db, jobId: string, stageId: string): Promise<StageCounts> {
  const r = await db.query(
    `SELECT count(*)::int AS total,
            ${partCountColumns()},
            count(*) FILTER (WHERE attempt > 1)::int AS retried,
            coalesce(max(part), -1)::int AS max_part
       FROM task_rows WHERE run_id = ${runIdOf('$1', '$2')}`,
    [jobId, stageId],
  );
  const x = r.rows[0];
  return { total: x.total, inFlight: x.inFlight, retryWaiting: x.retryWaiting, succeeded: x.succeeded, failed: x.failed, retried: x.retried, maxPart: x.max_part };
}

/** The job's window as one stage sees it: parts in flight across the job, and other running stages waiting for slots. */
export async function windowState(db: Db, jobId: string, stageId: string): Promise<{ inFlight: number; othersWaiting: number }> {
  const r = await db.query(
    `SELECT (SELECT count(*) FROM task_rows WHERE run_id IN (SELECT run_id FROM stage_runs WHERE job_id = $1) AND status = 'queued')::int AS in_flight,
            (SELECT count(*) FROM stage_runs WHERE job_id = $1 AND stage_id <> $2 AND status = 'running' AND waiting > 0)::int AS others_waiting`,
    [jobId, stageId],
  );
  return { inFlight: r.rows[0].in_flight, othersWaiting: r.rows[0].others_waiting };
}

/** Records how many parts a stage has ready but no slot for (0 when it has what it needs). */
export async function setStageWaiting(db: Db, jobId: string, stageId: string, waiting: number): Promise<void> {
  await db.query(`UPDATE stage_runs SET waiting = $3 WHERE job_id = $1 AND stage_id = $2`, [jobId, stageId, waiting]);
}

export interface SucceededPart {
  part: number;
  outputs: OutputRef[];
  result: unknown;
  seq: number;
}

/** Succeeded parts of a stage after a success sequence number, in the order they succeeded (stream chaining: the stage run has `success_order`). */
export async function succeededAfter(db: Db, jobId: string, stageId: string, afterSeq: number, limit: number): Promise<SucceededPart[]> {
  const r = await db.query(
    `SELECT part, outputs, result, success_seq FROM task_rows
      WHERE run_id = ${runIdOf('$1', '$2')} AND success_seq > $3 ORDER BY success_seq LIMIT $4`,
    [jobId, stageId, afterSeq, limit],
  );
  return r.rows.map((x) => ({ part: x.part, outputs: x.outputs ?? [], result: x.result, seq: Number(x.success_seq) }));
}

/** The highest success_seq of upstream parts that already have a row downstream: where a restarted stream stage resumes. */
export async function streamResumeSeq(db: Db, jobId: string, upstream: string, downstream: string): Promise<number> {
  const r = await db.query(
    `SELECT coalesce(max(u.success_seq), 0) AS seq FROM task_rows u
       JOIN task_rows d ON d.run_id = ${runIdOf('$1', '$3')} AND d.part = u.part
      WHERE u.run_id = ${runIdOf('$1', '$2')} AND u.success_seq IS NOT NULL`,
    [jobId, upstream, downstream],
  );
  return Number(r.rows[0].seq);
}

/** Pages through the succeeded parts of a stage in part order, `pageSize` at a time (planning and results). */
export async function* succeededParts(db: Db, jobId: string, stageId: string, pageSize = 1000): AsyncGenerator<SucceededPart> {
  let after = -1;
  for (;;) {
    const r = await db.query(
      `SELECT part, outputs, result, coalesce(success_seq, 0) AS seq FROM task_rows
        WHERE run_id = ${runIdOf('$1', '$2')} AND status = 'succeeded' AND part > $3 ORDER BY part LIMIT $4`,
      [jobId, stageId, after, pageSize],
    );
    for (const x of r.rows) yield { part: x.part, outputs: x.outputs ?? [], result: x.result, seq: Number(x.seq) };
    if (r.rows.length < pageSize) return;
    after = r.rows[r.rows.length - 1].part;
  }
}

/** The error of the lowest-numbered finally failed part of a stage, to explain a stage failure in words. */
export async function firstFailure(db: Db, jobId: string, stageId: string): Promise<{ part: number; error: TaskErrorInfo } | undefined> {
  const r = await db.query(`SELECT part, error FROM task_rows WHERE run_id = ${runIdOf('$1', '$2')} AND status = 'failed' ORDER BY part LIMIT 1`, [jobId, stageId]);
  return r.rows[0] ? { part: r.rows[0].part, error: r.rows[0].error } : undefined;
}

/** Part numbers of a stage that finally failed (for `retryFailed`). */
export async function failedPartNumbers(db: Db, jobId: string, stageId: string): Promise<number[]> {
  const r = await db.query(`SELECT part FROM task_rows WHERE run_id = ${runIdOf('$1', '$2')} AND status = 'failed' ORDER BY part`, [jobId, stageId]);
  return r.rows.map((x) => x.part);
}

/** A part that finally failed, with the inputs it was sent with. */
export interface FailedPart {
  part: number;
  inputs: InputRef[];
  inputsKey?: string;
}

/** Pages through the finally failed parts of a stage with their stored inputs, in part order (the manifest of a retry job). */
export async function* failedPartsWithInputs(db: Db, jobId: string, stageId: string, pageSize = 1000): AsyncGenerator<FailedPart> {
  let after = -1;
  for (;;) {
    const r = await db.query(
      `SELECT part, inputs, inputs_key FROM task_rows
        WHERE run_id = ${runIdOf('$1', '$2')} AND status = 'failed' AND part > $3 ORDER BY part LIMIT $4`,
      [jobId, stageId, after, pageSize],
    );
    for (const x of r.rows) yield { part: x.part, inputs: x.inputs ?? [], inputsKey: x.inputs_key ?? undefined };
    if (r.rows.length < pageSize) return;
    after = r.rows[r.rows.length - 1].part;
  }
}

/** Converts upstream outputs into downstream inputs. */
export const outputsToInputs = (outputs: OutputRef[]): InputRef[] => outputs.map((o) => ({ key: o.key, bytes: o.bytes }));

export type { TaskErrorInfo };

/**
 * Parts that succeeded in every one of `stageIds`, joined by part number, in part order, paged:
 * the inputs of a barrier stage with several upstreams (part i gets part i's outputs of each).
 */
export async function* joinedSucceeded(db: Db, jobId: string, stageIds: string[], pageSize = 1000): AsyncGenerator<{ part: number; outputs: OutputRef[] }> {
  let after = -1;
  for (;;) {
    const r = await db.query(
      `SELECT part, jsonb_agg(outputs ORDER BY array_position($2::text[], stage_id)) AS outputs FROM task_runs
        WHERE job_id = $1 AND stage_id = ANY($2::text[]) AND status = 'succeeded' AND part > $3
        GROUP BY part HAVING count(*) = cardinality($2::text[]) ORDER BY part LIMIT $4`,
      [jobId, stageIds, after, pageSize],
    );
    for (const x of r.rows) yield { part: x.part, outputs: (x.outputs as OutputRef[][]).flat() };
    if (r.rows.length < pageSize) return;
    after = r.rows[r.rows.length - 1].part;
  }
}

/** Takes the job's window lock until the transaction ends: stages of one job reserve slots one at a time. */
export async function lockJobWindow(tx: Db, jobId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`batchgrid-window:${jobId}`]);
}

/** A worker's notice that it started a part's attempt, with the deadline that now applies. */
export interface StartNotice {
  part: number;
  attempt: number;
  startedAt: number;
  workerId: string;
  deadlineAt: number;
}

/**
 * Records that parts started (queued → running): their deadline now counts from the start. Only
 * the attempt outstanding is touched; a later start of the same attempt (a redelivery after a
 * worker died) moves the deadline on. Returns the parts updated; null when `owner` (the stage
 * activity attempt writing) no longer owns the stage run, and nothing was written.
 */
export async function markStarted(db: Db, jobId: string, stageId: string, notices: StartNotice[], owner?: number): Promise<{ part: number; attempt: number }[] | null> {
  if (notices.length === 0) return [];
  const rows = notices.map((n) => ({ part: n.part, attempt: n.attempt, started_at: n.startedAt, worker_id: n.workerId, deadline_at: n.deadlineAt }));
  const r = await db.query<{ part: number; attempt: number }>(
    `UPDATE task_rows t SET started_at = to_timestamp(r.started_at / 1000.0), worker_id = r.worker_id, deadline_at = to_timestamp(r.deadline_at / 1000.0)
       FROM (SELECT DISTINCT ON (part) * FROM jsonb_to_recordset($3::jsonb) AS x(part int, attempt int, started_at float8, worker_id text, deadline_at float8) ORDER BY part, started_at DESC) r
      WHERE t.run_id = ${runIdOf('$1', '$2')} AND t.part = r.part AND t.attempt = r.attempt AND t.status = 'queued'
        AND (t.started_at IS NULL OR t.started_at <= to_timestamp(r.started_at / 1000.0)) AND ${ownedBy('$1', '$2', '$4')}
      RETURNING t.part, t.attempt`,
    [jobId, stageId, JSON.stringify(rows), owner ?? null],
  );
  if (r.rows.length === 0 && owner !== undefined && !(await ownsStage(db, jobId, stageId, owner))) return null;
  return r.rows;
}
