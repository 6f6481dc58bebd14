import type { QueryResultRow } from 'pg';
import type { TaskErrorInfo } from '../common/messages';
import type { PartStatus } from '../common/status';
import type { Queryable } from './db';

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

const ms = (a: string, b: string) => `(extract(epoch FROM ${a} - ${b}) * 1000)::float8`;

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

/** A page of a job's parts in (stage, part) order, by keyset: it reads one page's rows whatever the job's size (the primary key is the order). */
export async function listParts(db: Queryable, jobId: string, options: ListPartsOptions = {}): Promise<PartRow[]> {
  const values: unknown[] = [jobId];
  const where = ['job_id = $1'];
  if (options.stageId !== undefined) {
    values.push(options.stageId);
    where.push(`stage_id = $${values.length}`);
  }
  if (options.status !== undefined) {
    values.push(options.status);
    where.push(`status = ANY($${values.length}::text[])`);
  }
  if (options.after !== undefined) {
    values.push(options.after.stageId, options.after.part);
    where.push(`(stage_id, part) > ($${values.length - 1}, $${values.length})`);
  }
  values.push(options.limit ?? 50);
  const r = await db.query(
    `SELECT stage_id, part, attempt, status, worker_id, sent_at, started_at, finished_at, bytes_in, bytes_out, error,
            ${ms('received_at', 'sent_at')} AS queue_wait_ms, ${ms('finished_at', 'started_at')} AS run_time_ms
       FROM task_runs WHERE ${where.join(' AND ')} ORDER BY stage_id, part LIMIT $${values.length}`,
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
    `SELECT (extract(epoch FROM min(started_at)) * 1000)::float8 AS lo, (extract(epoch FROM max(finished_at)) * 1000)::float8 AS hi,
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

  const finishedRows = await db.query(
    `SELECT stage_id, ${bin(`(extract(epoch FROM finished_at) * 1000 - ${lo})`, bucketMs)} AS b, count(*)::int AS c
       FROM task_runs WHERE job_id = $1 AND status IN ('succeeded', 'failed') GROUP BY 1, 2`,
    [jobId],
  );
  const finished = new Map<string, number[]>();
  for (const r of finishedRows.rows) {
    const counts = finished.get(r.stage_id) ?? empty();
    finished.set(r.stage_id, counts);
    counts[r.b] = r.c;
  }

  const histogram = async (expr: string, maxMs: number | null): Promise<Histogram> => {
    const max = Math.max(1, maxMs ?? 0);
    const width = max / n;
    const rows = await db.query(
      `SELECT ${binOf(n)(expr, width)} AS b, count(*)::int AS c FROM task_runs WHERE job_id = $1 AND status IN ('succeeded', 'failed') AND ${expr} IS NOT NULL GROUP BY 1`,
      [jobId],
    );
    const counts = emptyOf(n)();
    for (const r of rows.rows) counts[r.b] = r.c;
    return { minMs: 0, maxMs: max, counts };
  };

  // Each part's run time spread over the buckets it overlaps would need a row per (part, bucket); a part is short beside a
  // bucket in a big job, so its run time goes to the bucket it started in (a part longer than a bucket shows as a peak).
  const workerRows = await db.query(
    `WITH busy AS (
       SELECT worker_id, ${bin(`(extract(epoch FROM started_at) * 1000 - ${lo})`, bucketMs)} AS b, sum(${ms('finished_at', 'started_at')}) AS busy
         FROM task_runs WHERE job_id = $1 AND status IN ('succeeded', 'failed') AND worker_id IS NOT NULL GROUP BY 1, 2),
     top AS (SELECT worker_id FROM busy GROUP BY 1 ORDER BY sum(busy) DESC, worker_id LIMIT $2)
     SELECT busy.* FROM busy JOIN top USING (worker_id) ORDER BY worker_id`,
    [jobId, options.maxWorkers ?? 20],
  );
  const workers = new Map<string, number[]>();
  for (const r of workerRows.rows) {
    const busy = workers.get(r.worker_id) ?? empty();
    workers.set(r.worker_id, busy);
    busy[r.b] = Number(r.busy);
  }

  return {
    times,
    bucketMs,
    finished: [...finished].map(([stageId, counts]) => ({ stageId, counts })),
    runTime: await histogram(ms('finished_at', 'started_at'), s.run_max),
    queueWait: await histogram(ms('received_at', 'sent_at'), s.wait_max),
    workers: [...workers].map(([workerId, busyMs]) => ({ workerId, busyMs })),
  };
}
