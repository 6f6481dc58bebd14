import type { QueryResultRow } from 'pg';
import type { InputRef, OutputRef, TaskErrorInfo } from '../common/messages';
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
  /**
   * What the part was sent with; null for a succeeded part, whose row no longer stores them (it is
   * never sent again): they are the upstream part's outputs or the part's manifest line (manager/client/part.ts).
   */
  inputs: InputRef[] | null;
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
    inputs: row.inputs ?? (row.status === 'succeeded' && row.inputs_key === null ? null : []),
    inputsKey: row.inputs_key ?? null,
    outputs: row.status === 'succeeded' ? (row.outputs ?? []) : [],
    result: row.result ?? null,
    attempts,
  };
}

/** One part of a job as the console's parts table shows it: its latest attempt (task_runs). */
export interface PartRow {
  stageId: string;
  part: number;
  attempt: number;
  status: PartStatus;
  workerId: string | null;
  sentAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** received − sent, ms; null until a worker received it. */
  queueWaitMs: number | null;
  /** finished − started, ms; null until it finished. */
  runTimeMs: number | null;
  bytesIn: number;
  bytesOut: number;
  error: TaskErrorInfo | null;
}

export interface ListPartsOptions {
  stageId?: string;
  status?: PartStatus[];
  /** Page size. Default: 50. */
  limit?: number;
  /** Only parts after this one, in (stage, part) order: the last row of the previous page. */
  after?: { stageId: string; part: number };
}

// date_part is float8 arithmetic; extract() computes in numeric, several times slower over a million parts.
const ms = (a: string, b: string) => `(date_part('epoch', ${a} - ${b}) * 1000)`;

function toPart(r: QueryResultRow): PartRow {
  return {
    stageId: r.stage_id,
    part: r.part,
    attempt: r.attempt,
    status: r.status,
    workerId: r.worker_id,
    sentAt: r.sent_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    queueWaitMs: r.queue_wait_ms,
    runTimeMs: r.run_time_ms,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    error: r.error,
  };
}

/**
 * A page of a job's parts in (stage, part) order, by keyset: it reads one page's rows whatever the
 * job's size. Per stage run, at most a page is read from task_rows in primary-key order (run_id,
 * part), then the stages' pages are merged: through the task_runs view the planner would join and
 * sort every row of the job.
 */
export async function listParts(db: Queryable, jobId: string, options: ListPartsOptions = {}): Promise<PartRow[]> {
  const values: unknown[] = [jobId];
  const stages = ['s.job_id = $1'];
  const rows = ['t.run_id = s.run_id'];
  if (options.stageId !== undefined) {
    values.push(options.stageId);
    stages.push(`s.stage_id = $${values.length}`);
  }
  if (options.status !== undefined) {
    values.push(options.status);
    rows.push(`t.status = ANY($${values.length}::text[])`);
  }
  if (options.after !== undefined) {
    values.push(options.after.stageId, options.after.part);
    const [stage, part] = [`$${values.length - 1}`, `$${values.length}`];
    stages.push(`s.stage_id >= ${stage}`);
    rows.push(`t.part > CASE WHEN s.stage_id = ${stage} THEN ${part}::int ELSE -1 END`);
  }
  values.push(options.limit ?? 50);
  const limit = `$${values.length}`;
  const r = await db.query(
    `SELECT s.stage_id, t.* FROM stage_runs s CROSS JOIN LATERAL (
       SELECT part, attempt, status, worker_id, sent_at, started_at, finished_at, bytes_in, bytes_out, error,
              ${ms('received_at', 'sent_at')} AS queue_wait_ms, ${ms('finished_at', 'started_at')} AS run_time_ms
         FROM task_rows t WHERE ${rows.join(' AND ')} ORDER BY part LIMIT ${limit}) t
      WHERE ${stages.join(' AND ')} ORDER BY s.stage_id, t.part LIMIT ${limit}`,
    values,
  );
  return r.rows.map(toPart);
}

/** A histogram: `buckets` equal bins from `minMs` to `maxMs`, each with its count. */
export interface Histogram {
  minMs: number;
  maxMs: number;
  counts: number[];
}

/** The shortest time bucket of the charts' time series, ms. */
const MIN_BUCKET_MS = 1000;

/** What the console's report charts draw, each computed in Postgres in a fixed number of rows whatever the job's size. */
export interface JobCharts {
  /** Bucket start times (epoch ms), `bucketMs` apart (at least a second; at most `buckets` of them); the series below have one value per bucket. */
  times: number[];
  bucketMs: number;
  /** Per stage, parts finished (succeeded or failed) in each bucket. */
  finished: { stageId: string; counts: number[] }[];
  runTime: Histogram;
  queueWait: Histogram;
  /** Per worker, ms of part run time inside each bucket: a utilisation timeline. */
  workers: { workerId: string; busyMs: number[] }[];
}

/** The report's time series and distributions of a job's finished parts, in `buckets` bins (at most `maxWorkers` workers, busiest first). */
export async function jobCharts(db: Queryable, jobId: string, options: { buckets?: number; maxWorkers?: number } = {}): Promise<JobCharts> {
  const n = options.buckets ?? 60;
  const span = await db.query(
    `SELECT date_part('epoch', min(started_at)) * 1000 AS lo, date_part('epoch', max(finished_at)) * 1000 AS hi,
            max(${ms('finished_at', 'started_at')}) AS run_max, max(${ms('received_at', 'sent_at')}) AS wait_max
       FROM task_runs WHERE job_id = $1 AND status IN ('succeeded', 'failed')`,
    [jobId],
  );
  const s = span.rows[0] as { lo: number | null; hi: number | null; run_max: number | null; wait_max: number | null };
  const lo = s.lo ?? 0;
  const spanMs = (s.hi ?? lo) - lo + 1;
  // Buckets of a second at least: a rate over a few ms of a short job says nothing (and a part would outlast its bucket).
  const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil(spanMs / n));
  const slots = Math.max(1, Math.min(n, Math.ceil(spanMs / bucketMs)));
  const times = Array.from({ length: slots }, (_, i) => lo + i * bucketMs);
  const emptyOf = (k: number) => () => new Array<number>(k).fill(0);
  const binOf = (k: number) => (expr: string, width: number) => `least(${k - 1}, floor(${expr} / ${width})::int)`;
  const [empty, bin] = [emptyOf(slots), binOf(slots)];

  const runWidth = Math.max(1, s.run_max ?? 0) / n;
  const waitWidth = Math.max(1, s.wait_max ?? 0) / n;
  const histBin = binOf(n);
  // One scan of the job's parts (materialised once), then every series grouped from it: a part's run
  // time counts in the bucket it started in (a part longer than a bucket shows as a peak).
  const rows = await db.query<{ kind: 'finished' | 'run' | 'wait' | 'worker'; key: string | null; b: number; v: number }>(
    `WITH p AS MATERIALIZED (
       SELECT stage_id, worker_id, date_part('epoch', finished_at) * 1000 - ${lo} AS f, date_part('epoch', started_at) * 1000 - ${lo} AS st,
              ${ms('finished_at', 'started_at')} AS run, ${ms('received_at', 'sent_at')} AS wait
         FROM task_runs WHERE job_id = $1 AND status IN ('succeeded', 'failed'))
     SELECT 'finished' AS kind, stage_id AS key, ${bin('f', bucketMs)} AS b, count(*)::float8 AS v FROM p GROUP BY 2, 3
     UNION ALL SELECT 'run', NULL, ${histBin('run', runWidth)}, count(*) FROM p WHERE run IS NOT NULL GROUP BY 3
     UNION ALL SELECT 'wait', NULL, ${histBin('wait', waitWidth)}, count(*) FROM p WHERE wait IS NOT NULL GROUP BY 3
     UNION ALL SELECT 'worker', worker_id, ${bin('st', bucketMs)}, sum(run) FROM p WHERE worker_id IS NOT NULL AND run IS NOT NULL GROUP BY 2, 3`,
    [jobId],
  );
  const finished = new Map<string, number[]>();
  const workers = new Map<string, number[]>();
  const runTime = emptyOf(n)();
  const queueWait = emptyOf(n)();
  for (const r of rows.rows) {
    if (r.kind === 'run') runTime[r.b] = r.v;
    else if (r.kind === 'wait') queueWait[r.b] = r.v;
    else {
      const series = r.kind === 'finished' ? finished : workers;
      const values = series.get(r.key!) ?? empty();
      series.set(r.key!, values);
      values[r.b] = r.v;
    }
  }
  const busiest = [...workers].map(([workerId, busyMs]) => ({ workerId, busyMs, total: busyMs.reduce((x, y) => x + y, 0) }));
  busiest.sort((x, y) => y.total - x.total || x.workerId.localeCompare(y.workerId));

  return {
    times,
    bucketMs,
    finished: [...finished].map(([stageId, counts]) => ({ stageId, counts })),
    runTime: { minMs: 0, maxMs: runWidth * n, counts: runTime },
    queueWait: { minMs: 0, maxMs: waitWidth * n, counts: queueWait },
    workers: busiest.slice(0, options.maxWorkers ?? 20).map(({ workerId, busyMs }) => ({ workerId, busyMs })),
  };
}
