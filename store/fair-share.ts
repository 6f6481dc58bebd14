import type { Queryable } from './db';
import { liveWorker } from './workers';

/** A worker not heard from for this long no longer counts in its fleet's capacity, in ms. */
const LIVE_WORKER_MS = 60_000;

/** What a running stage publishes about itself for the allocation on its fleet. */
export interface StageLoad {
  jobId: string;
  stageId: string;
  fleet: string;
  inFlight: number;
  /** Worker slots its parts keep busy (activities/stage-loop.ts StageLoad). */
  busySlots: number;
  /** Parts it has ready to send and no room for. */
  ready: number;
  /** Mean run time of its finished parts, in ms; undefined keeps the last one published. */
  meanRunMs: number | undefined;
}

/** Records a running stage's load (stage_runs: fleet, in_flight, ready, mean_run_ms). */
export async function publishStageLoad(db: Queryable, load: StageLoad): Promise<void> {
  await db.query(`UPDATE stage_runs SET fleet = $3, in_flight = $4, busy_slots = $5, ready = $6, mean_run_ms = coalesce($7, mean_run_ms)
      WHERE job_id = $1 AND stage_id = $2`, [
    load.jobId,
    load.stageId,
    load.fleet,
    load.inFlight,
    load.busySlots,
    load.ready,
    load.meanRunMs ?? null,
  ]);
}

/** A running stage on the fleet, as the allocation sees it. */
export interface FleetStageLoad {
  jobId: string;
  stageId: string;
  /** Its job's priority (weight) and window. */
  priority: number;
  concurrency: number;
  paused: boolean;
  inFlight: number;
  busySlots: number;
  /** Parts it has ready but no room for. */
  ready: number;
  meanRunMs: number | null;
}

/**
 * The running stages on a fleet and the slots of its live workers (as far as the workers table
 * knows: it is fed by the fleet's events, which its autoscaler drains).
 */
export async function fleetLoad(db: Queryable, fleet: string): Promise<{ slots: number; stages: FleetStageLoad[] }> {
  const r = await db.query(
    `SELECT s.job_id, s.stage_id, j.priority, coalesce(j.concurrency, (j.definition->>'concurrency')::int) AS concurrency, j.status = 'paused' AS paused,
            s.in_flight, s.busy_slots, s.ready, s.mean_run_ms
       FROM stage_runs s JOIN jobs j ON j.job_id = s.job_id
      WHERE s.fleet = $1 AND s.status = 'running' AND j.status IN ('running', 'paused')`,
    [fleet],
  );
  return {
    slots: await fleetSlots(db, fleet),
    stages: r.rows.map((x) => ({
      jobId: x.job_id,
      stageId: x.stage_id,
      priority: x.priority,
      concurrency: x.concurrency,
      paused: x.paused,
      inFlight: x.in_flight,
      busySlots: x.busy_slots,
      ready: x.ready,
      meanRunMs: x.mean_run_ms,
    })),
  };
}

/** Slots of the fleet's live workers. */
export async function fleetSlots(db: Queryable, fleet: string): Promise<number> {
  const r = await db.query(
    `SELECT coalesce(sum(slots), 0)::int AS slots FROM workers WHERE fleet = $1 AND ${liveWorker('$2')}`,
    [fleet, LIVE_WORKER_MS],
  );
  return r.rows[0].slots;
}
