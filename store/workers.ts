import type { WorkerEvent } from '../common/messages';
import type { QueryResultRow } from 'pg';
import type { Queryable } from './db';

export type WorkerStatus = 'up' | 'stopped' | 'lost';

export interface Worker {
  workerId: string;
  fleet: string;
  instanceId: string;
  slots: number;
  busySlots: number;
  partsDone: number;
  partsFailed: number;
  bytesIn: number;
  bytesOut: number;
  busyMs: number;
  uptimeMs: number;
  startedAt: Date;
  lastSeenAt: Date;
  stoppedAt: Date | null;
  status: WorkerStatus;
}

function toWorker(r: QueryResultRow): Worker {
  return {
    workerId: r.worker_id,
    fleet: r.fleet,
    instanceId: r.instance_id,
    slots: r.slots,
    busySlots: r.busy_slots,
    partsDone: Number(r.parts_done),
    partsFailed: Number(r.parts_failed),
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    busyMs: Number(r.busy_ms),
    uptimeMs: Number(r.uptime_ms),
    startedAt: r.started_at,
    lastSeenAt: r.last_seen_at,
    stoppedAt: r.stopped_at,
    status: r.status,
  };
}

const COLUMNS = `worker_id, fleet, instance_id, slots, busy_slots, parts_done, parts_failed, bytes_in, bytes_out,
  busy_ms, uptime_ms, started_at, last_seen_at, stopped_at, status`;

const EVENT_RECORD = `event text, "workerId" text, "instanceId" text, fleet text, slots int, "busySlots" int,
  "partsDone" bigint, "partsFailed" bigint, "bytesIn" bigint, "bytesOut" bigint, "uptimeMs" bigint, "busyMs" bigint, at bigint`;

const ts = (ms: string) => `to_timestamp(${ms} / 1000.0)`;

/**
 * Applies a batch of fleet worker events in one statement. Events may arrive late, twice or out of
 * order (SQS): counters only grow (GREATEST), gauges (slots, busy slots) come from the newest event,
 * a `stop` is final, and a worker marked lost comes back `up` only on an event newer than it was last seen.
 */
export async function upsertWorkerEvents(db: Queryable, events: WorkerEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `WITH ev AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(${EVENT_RECORD})),
     latest AS (
       SELECT DISTINCT ON ("workerId") "workerId", "instanceId", fleet, slots, "busySlots"
         FROM ev ORDER BY "workerId", at DESC, (event = 'stop') DESC
     ),
     agg AS (
       SELECT "workerId", max("partsDone") AS parts_done, max("partsFailed") AS parts_failed,
              max("bytesIn") AS bytes_in, max("bytesOut") AS bytes_out, max("busyMs") AS busy_ms, max("uptimeMs") AS uptime_ms,
              min(at - "uptimeMs") AS started, max(at) AS seen, max(at) FILTER (WHERE event = 'stop') AS stopped
         FROM ev GROUP BY "workerId"
     )
     INSERT INTO workers AS w (worker_id, fleet, instance_id, slots, busy_slots, parts_done, parts_failed, bytes_in, bytes_out,
                               busy_ms, uptime_ms, started_at, last_seen_at, stopped_at, status)
     SELECT l."workerId", l.fleet, l."instanceId", l.slots, l."busySlots", a.parts_done, a.parts_failed, a.bytes_in, a.bytes_out,
            a.busy_ms, a.uptime_ms, ${ts('a.started')}, ${ts('a.seen')},
            CASE WHEN a.stopped IS NULL THEN NULL ELSE ${ts('a.stopped')} END,
            CASE WHEN a.stopped IS NULL THEN 'up' ELSE 'stopped' END
       FROM latest l JOIN agg a USING ("workerId")
     ON CONFLICT (worker_id) DO UPDATE SET
       fleet = CASE WHEN excluded.last_seen_at >= w.last_seen_at THEN excluded.fleet ELSE w.fleet END,
       instance_id = CASE WHEN excluded.last_seen_at >= w.last_seen_at THEN excluded.instance_id ELSE w.instance_id END,
       slots = CASE WHEN excluded.last_seen_at >= w.last_seen_at THEN excluded.slots ELSE w.slots END,
       busy_slots = CASE WHEN excluded.last_seen_at >= w.last_seen_at THEN excluded.busy_slots ELSE w.busy_slots END,
       parts_done = greatest(w.parts_done, excluded.parts_done),
       parts_failed = greatest(w.parts_failed, excluded.parts_failed),
       bytes_in = greatest(w.bytes_in, excluded.bytes_in),
       bytes_out = greatest(w.bytes_out, excluded.bytes_out),
       busy_ms = greatest(w.busy_ms, excluded.busy_ms),
       uptime_ms = greatest(w.uptime_ms, excluded.uptime_ms),
       started_at = w.started_at,
       last_seen_at = greatest(w.last_seen_at, excluded.last_seen_at),
       stopped_at = coalesce(w.stopped_at, excluded.stopped_at),
       status = CASE
         WHEN w.status = 'stopped' OR excluded.status = 'stopped' THEN 'stopped'
         WHEN w.status = 'lost' AND excluded.last_seen_at <= w.last_seen_at THEN 'lost'
         ELSE 'up' END`,
    [JSON.stringify(events)],
  );
}

export interface ListWorkersOptions {
  fleet?: string;
  /** Only workers `up` and seen within this many ms. Default: every worker, whatever its status. */
  liveWithinMs?: number;
}

/** SQL: the worker is up and was seen within the ms bound to parameter `param` (e.g. `$2`). */
export const liveWorker = (param: string) => `status = 'up' AND last_seen_at > now() - make_interval(secs => ${param}::float8 / 1000)`;

/** Workers, most recently seen first. */
export async function listWorkers(db: Queryable, options: ListWorkersOptions = {}): Promise<Worker[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (options.fleet !== undefined) {
    values.push(options.fleet);
    where.push(`fleet = $${values.length}`);
  }
  if (options.liveWithinMs !== undefined) {
    values.push(options.liveWithinMs);
    where.push(liveWorker(`$${values.length}`));
  }
  const r = await db.query(
    `SELECT ${COLUMNS} FROM workers ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen_at DESC, worker_id`,
    values,
  );
  return r.rows.map(toWorker);
}

/** Marks the fleet's `up` workers not seen for `olderThanMs` as lost; returns their ids. */
export async function markLostWorkers(db: Queryable, fleet: string, olderThanMs: number): Promise<string[]> {
  const r = await db.query<{ worker_id: string }>(
    `UPDATE workers SET status = 'lost'
      WHERE fleet = $1 AND status = 'up' AND last_seen_at < now() - make_interval(secs => $2::float8 / 1000)
      RETURNING worker_id`,
    [fleet, olderThanMs],
  );
  return r.rows.map((x) => x.worker_id).sort();
}
