import { stageFleetSql, type Queryable } from './db';
import { ms } from './reports';
import { liveOrCompacted } from './aggregates';

/**
 * What cost reports read: busy time per stage, a fleet's worker time and busy time in a window,
 * and fleets' prices. The formulas that turn them into money are in manager/reports/cost.ts and
 * docs/api.md ("Cost").
 *
 * task_runs keeps one row per part, its latest attempt that reported back: an earlier attempt's
 * run time is overwritten by the next one's, and an attempt still running has no times yet. Busy
 * time is therefore the run time of each part's latest attempt that ran to its end (succeeded,
 * failed, waiting for a retry, or sent again and still carrying the previous attempt's times).
 */

/** An attempt that ran to its end (`t`: the table's alias with its dot). */
const ran = (t = '') => `${t}started_at IS NOT NULL AND ${t}finished_at IS NOT NULL AND ${t}finished_at >= ${t}started_at`;

/** A stage's busy time: the sum of its stored attempts' run times. */
export interface StageBusyRow {
  stageId: string;
  busyMs: number;
}

/** A fleet in a window: its workers' up time and the busy time of every job's parts on it, clipped to the window. */
export interface FleetUsageRow {
  /** Workers up at some time in the window. */
  workers: number;
  /** Sum over those workers of their up time inside the window, ms. */
  workerMs: number;
  /** Sum over every job's stored attempts on the fleet of their run time inside the window, ms. */
  busyMs: number;
}

/** Busy time per stage of the job that has any, by stage id. */
export function stageBusy(db: Queryable, jobId: string): Promise<StageBusyRow[]> {
  return liveOrCompacted(db, jobId, () => liveStageBusy(db, jobId), (a) => a.stageBusy);
}

async function liveStageBusy(db: Queryable, jobId: string): Promise<StageBusyRow[]> {
  const r = await db.query(
    `SELECT stage_id, sum(${ms('started_at', 'finished_at')})::float8 AS busy_ms
       FROM task_runs WHERE job_id = $1 AND ${ran()}
      GROUP BY stage_id ORDER BY stage_id`,
    [jobId],
  );
  return r.rows.map((x) => ({ stageId: x.stage_id, busyMs: x.busy_ms }));
}

/**
 * The fleet's worker time and busy time in [since, until]. Workers report cumulative counters, not
 * intervals, so a worker counts as up from its start to its stop; one marked lost, to when it was
 * last heard from; one still up, to `now` (the autoscaler marks silent workers lost). A stage runs on `stage.fleet`, else the pipeline's `fleet`, as its job's
 * definition says; jobs are found by their run overlapping the window, then their parts by key,
 * and a compacted job's deleted parts by their kept intervals (stage_run_intervals). Busy time is
 * summed in interval order, so the float sum is the same whichever table the intervals come from.
 */
export async function fleetUsage(db: Queryable, fleet: string, since: Date, until: Date, now: Date = new Date()): Promise<FleetUsageRow> {
  const r = await db.query(
    `WITH up AS (
       SELECT started_at, CASE status WHEN 'stopped' THEN coalesce(stopped_at, last_seen_at) WHEN 'lost' THEN last_seen_at
                                      ELSE greatest(last_seen_at, $4) END AS ended_at
         FROM workers WHERE fleet = $1),
     w AS (
       SELECT greatest(started_at, $2) AS s, least(ended_at, $3) AS e FROM up WHERE started_at < $3 AND ended_at > $2),
     js AS (
       SELECT j.job_id, st->>'id' AS stage_id
         FROM jobs j CROSS JOIN LATERAL jsonb_array_elements(j.definition->'stages') st
        WHERE j.started_at < $3 AND coalesce(j.finished_at, 'infinity') > $2
          AND ${stageFleetSql('j', 'st')} = $1),
     i AS (
       SELECT t.started_at, t.finished_at
         FROM js JOIN task_runs t ON t.job_id = js.job_id AND t.stage_id = js.stage_id
        WHERE ${ran('t.')}
       UNION ALL
       SELECT x.started_at, x.finished_at
         FROM js JOIN stage_run_intervals r ON r.job_id = js.job_id AND r.stage_id = js.stage_id
        CROSS JOIN LATERAL unnest(r.started_at, r.finished_at) AS x(started_at, finished_at)),
     b AS (
       SELECT greatest(started_at, $2) AS s, least(finished_at, $3) AS e FROM i WHERE started_at < $3 AND finished_at > $2)
     SELECT (SELECT count(*) FROM w)::int AS workers,
            (SELECT coalesce(sum(${ms('s', 'e')}), 0) FROM w)::float8 AS worker_ms,
            (SELECT coalesce(sum(${ms('s', 'e')} ORDER BY s, e), 0) FROM b)::float8 AS busy_ms`,
    [fleet, since, until, now],
  );
  const x = r.rows[0];
  return { workers: x.workers, workerMs: x.worker_ms, busyMs: x.busy_ms };
}

/** Each fleet's price per worker-hour from the definition its autoscaler recorded; null without one. */
export async function fleetPrices(db: Queryable, fleets: string[]): Promise<Map<string, number | null>> {
  const r = await db.query<{ fleet: string; price: number | null }>(
    `SELECT fleet, (definition->>'pricePerWorkerHour')::float8 AS price FROM fleets WHERE fleet = ANY($1::text[])`,
    [fleets],
  );
  const prices = new Map<string, number | null>(fleets.map((f) => [f, null]));
  for (const x of r.rows) prices.set(x.fleet, x.price);
  return prices;
}
