import type { PipelineDef } from '../../pipeline/types';
import type { FleetUsageRow, StageBusyRow } from '../../store/cost';

/**
 * Cost of jobs and fleets (pure): busy worker time, plus a share of the fleet's idle time, times
 * the fleet's price per worker-hour. The formulas, as docs/api.md ("Cost") states them:
 *
 *   idle(F, W)        = max(0, workerTime(F, W) − busy(F, W))         over a window W
 *   idleShare(stage)  = idle(F, W) × busy(stage) / busy(F, W)          W = the job's run, F = the stage's fleet
 *   cost(stage)       = (busy(stage) + idleShare(stage)) / 1 h × price(F)
 *   cost(job)         = Σ over its fleets F of (busy(job on F) + idle(F, W) × busy(job on F) / busy(F, W)) / 1 h × price(F)
 *   cost(F, period)   = (busy(F, P) + idle(F, P)) / 1 h × price(F)
 */

export const MS_PER_HOUR = 3_600_000;

/** A fleet over a window (a job's run, or a period): its usage, idle time and price. */
export interface FleetWindow extends FleetUsageRow {
  fleet: string;
  /** From the fleet's recorded definition; null when it has none. */
  pricePerWorkerHour: number | null;
  /** workerMs − busyMs, never below 0 (busy time of workers not reporting can exceed the up time seen). */
  idleMs: number;
}

/** What one stage cost. */
export interface StageCost {
  /** The fleet that ran it: the stage's `fleet`, else the pipeline's. */
  fleet: string;
  pricePerWorkerHour: number | null;
  /** Run time of its parts' stored attempts, ms. */
  busyMs: number;
  /** Its share of its fleet's idle time while the job ran, in proportion to its busy time, ms. */
  idleShareMs: number;
  /** (busyMs + idleShareMs) / 1 h × price; null without a price. */
  cost: number | null;
}

/** What a job cost, over every fleet its stages ran on. */
export interface JobCost {
  busyMs: number;
  idleShareMs: number;
  /** The sum over the fleets that have a price; null when none has one. */
  cost: number | null;
  /** Fleets the job ran on that have no price (their time is not in `cost`). */
  unpriced: string[];
  /** Each fleet its stages name, over the job's run (started → finished, or → the report's time). */
  fleets: FleetWindow[];
}

/** What a fleet cost over a period: all its workers' time, busy or idle. */
export interface FleetCost extends FleetWindow {
  since: Date;
  until: Date;
  /** (busyMs + idleMs) / 1 h × price; null without a price. */
  cost: number | null;
}

/** The fleet a stage runs on: its own `fleet` when the pipeline language has one, else the pipeline's. */
export function stageFleet(definition: PipelineDef, stageId: string): string {
  const stage = definition.stages.find((s) => s.id === stageId) as { fleet?: string } | undefined;
  return stage?.fleet ?? definition.fleet;
}

/** Worker time at a price per worker-hour; null without a price. */
export const priced = (ms: number, price: number | null): number | null => (price === null ? null : (ms * price) / MS_PER_HOUR);

/** A fleet's usage over a window, with its idle time and price. */
export function fleetWindow(fleet: string, usage: FleetUsageRow, price: number | null): FleetWindow {
  const { workers, workerMs, busyMs } = usage;
  return { fleet, pricePerWorkerHour: price, workers, workerMs, busyMs, idleMs: Math.max(0, workerMs - busyMs) };
}

/** The share of the fleet's idle time that `busyMs` of its busy time carries (never more than all of it). */
export const idleShare = (busyMs: number, w: FleetWindow): number => (w.busyMs > 0 ? (w.idleMs * Math.min(busyMs, w.busyMs)) / w.busyMs : 0);

/** A fleet's cost over a period. */
export function fleetCost(fleet: string, since: Date, until: Date, usage: FleetUsageRow, price: number | null): FleetCost {
  const w = fleetWindow(fleet, usage, price);
  return { ...w, since, until, cost: priced(w.busyMs + w.idleMs, price) };
}

/** Per-stage and job cost from the stages' busy time and their fleets over the job's run (one window per fleet). */
export function buildJobCost(definition: PipelineDef, stageIds: string[], busy: StageBusyRow[], windows: FleetWindow[]): { stages: Map<string, StageCost>; job: JobCost } {
  const windowOf = (fleet: string): FleetWindow => windows.find((w) => w.fleet === fleet) ?? fleetWindow(fleet, { workers: 0, workerMs: 0, busyMs: 0 }, null);
  const stages = new Map<string, StageCost>();
  const onFleet = new Map<string, number>();
  for (const stageId of stageIds) {
    const w = windowOf(stageFleet(definition, stageId));
    const busyMs = busy.find((b) => b.stageId === stageId)?.busyMs ?? 0;
    const idleShareMs = idleShare(busyMs, w);
    stages.set(stageId, { fleet: w.fleet, pricePerWorkerHour: w.pricePerWorkerHour, busyMs, idleShareMs, cost: priced(busyMs + idleShareMs, w.pricePerWorkerHour) });
    onFleet.set(w.fleet, (onFleet.get(w.fleet) ?? 0) + busyMs);
  }
  const fleets = [...onFleet.keys()].map(windowOf);
  let busyMs = 0;
  let idleShareMs = 0;
  let cost: number | null = null;
  for (const w of fleets) {
    const b = onFleet.get(w.fleet)!;
    const idle = idleShare(b, w);
    busyMs += b;
    idleShareMs += idle;
    const c = priced(b + idle, w.pricePerWorkerHour);
    if (c !== null) cost = (cost ?? 0) + c;
  }
  const unpriced = fleets.filter((w) => w.pricePerWorkerHour === null).map((w) => w.fleet);
  return { stages, job: { busyMs, idleShareMs, cost, unpriced, fleets } };
}
