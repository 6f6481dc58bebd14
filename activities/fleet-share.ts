import type { Pool } from 'pg';
import { fleetLoad, publishStageLoad } from '../store/fair-share';
import { allocateByWeight, fleetBudget, type JobDemand } from './fair-share';
import type { StageLoad } from './stage-loop';

/** Default of how much work a fleet's queue holds ahead of its workers, in ms (BatchJobOptions.queueAheadMs). */
export const DEFAULT_QUEUE_AHEAD_MS = 3000;

/**
 * A stage's fair share of its fleet, from what every running stage on it published: records this
 * stage's load, divides the fleet's budget among the jobs by priority, and returns what this
 * stage may have in flight (its job's share less what the job's other stages on the fleet hold;
 * at least 1 while it has parts ready, so no stage of a job starves another).
 */
export function postgresFleetShare(db: Pool, o: { jobId: string; stageId: string; fleet: string; queueAheadMs: number }): (load: StageLoad) => Promise<number> {
  return async (load) => {
    await publishStageLoad(db, { jobId: o.jobId, stageId: o.stageId, fleet: o.fleet, ...load });
    const { slots, stages } = await fleetLoad(db, o.fleet);
    const jobs = new Map<string, JobDemand & { concurrency: number }>();
    let weighted = 0;
    let weight = 0;
    let busy = 0;
    for (const s of stages) {
      busy += s.busySlots;
      const j = jobs.get(s.jobId) ?? { jobId: s.jobId, weight: s.priority, demand: 0, concurrency: s.concurrency };
      j.demand += s.inFlight + (s.paused ? 0 : s.ready);
      jobs.set(s.jobId, j);
      if (s.meanRunMs !== null) {
        // The fleet's mean run time, weighted by what each stage has in flight (at least 1).
        weighted += s.meanRunMs * Math.max(1, s.inFlight);
        weight += Math.max(1, s.inFlight);
      }
    }
    // The fleet's slots: what its live workers declared, or (when no autoscaler feeds the workers
    // table) at least the slots its parts keep busy now, so the budget grows as the workers take parts.
    const budget = fleetBudget({ slots: Math.max(slots, Math.ceil(busy)), meanRunMs: weight > 0 ? weighted / weight : undefined, queueAheadMs: o.queueAheadMs });
    const shares = allocateByWeight(budget, [...jobs.values()].map((j) => ({ ...j, demand: Math.min(j.demand, j.concurrency) })));
    const share = shares.get(o.jobId) ?? budget;
    const others = stages.filter((s) => s.jobId === o.jobId && s.stageId !== o.stageId).reduce((sum, s) => sum + s.inFlight, 0);
    return Math.max(load.ready > 0 ? 1 : 0, share - others);
  };
}
