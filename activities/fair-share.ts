/**
 * Fair share of a fleet between the jobs that have parts for it (pure; docs/engine.md, "Fair
 * share"). A fleet's input queue is FIFO, so a part's place in it cannot be changed once sent:
 * priorities and shares are decided before sending, by how many parts each job may have in
 * flight. Two rules:
 *
 * 1. The fleet's **budget** of parts in flight is its free capacity plus about `queueAheadMs` of
 *    work queued ahead (slots × (1 + queueAheadMs / mean run time)). The queue never holds more
 *    than a few seconds of work, so a job that arrives (or gains priority) gets its parts running
 *    after at most that long, behind however long a backlog, while the workers never wait for the
 *    orchestrator. Short parts make the budget large: at 5 ms a part it stops mattering.
 * 2. The budget is divided by **weight** (the jobs' priorities), max-min fair: a job that needs
 *    less than its share (a small window, few parts left) keeps what it needs and the rest is
 *    divided among the others. With the same part durations, jobs' parts/s follow their parts in
 *    flight (Little's law on one FIFO queue), so weights 3 and 1 give about 3:1.
 */

export interface JobDemand {
  jobId: string;
  /** Its priority: the weight of its share. */
  weight: number;
  /** Parts it would have in flight on this fleet if it could: in flight plus ready to send, within its window. */
  demand: number;
}

export interface FleetBudgetInput {
  /** Slots of the fleet's live workers. */
  slots: number;
  /** Mean run time of the parts running on the fleet, in ms; undefined before any finished. */
  meanRunMs: number | undefined;
  /** How much work may wait in the queue ahead of the workers, in ms. */
  queueAheadMs: number;
}

/** The run time assumed before any part of the fleet has finished, in ms. */
export const ASSUMED_RUN_MS = 1000;
/** The slots assumed of a fleet with no live worker yet (scaled to zero, or starting). */
export const ASSUMED_SLOTS = 4;
/** The shortest mean run time used, in ms (a budget stays finite for parts of no measurable time). */
const MIN_RUN_MS = 1;

/** How many parts the fleet may have in flight in all: its slots plus `queueAheadMs` of queued work. */
export function fleetBudget(o: FleetBudgetInput): number {
  const slots = o.slots > 0 ? o.slots : ASSUMED_SLOTS;
  const runMs = Math.max(MIN_RUN_MS, o.meanRunMs ?? ASSUMED_RUN_MS);
  return Math.ceil(slots * (1 + o.queueAheadMs / runMs));
}

/**
 * Divides `budget` parts in flight among the jobs by weight, max-min fair (water filling): no job
 * gets more than its demand, and what one does not need goes to the others by their weights.
 * Shares are whole parts (rounded up: a job with any demand gets at least one), so they may add up
 * to a little over the budget.
 */
export function allocateByWeight(budget: number, jobs: JobDemand[]): Map<string, number> {
  const shares = new Map<string, number>();
  let open = jobs.filter((j) => j.demand > 0);
  for (const j of jobs) if (j.demand <= 0) shares.set(j.jobId, 0);
  let left = budget;
  while (open.length > 0) {
    const weights = open.reduce((sum, j) => sum + j.weight, 0);
    const satisfied = open.filter((j) => j.demand <= (left * j.weight) / weights);
    if (satisfied.length === 0) {
      for (const j of open) shares.set(j.jobId, Math.max(1, Math.ceil((left * j.weight) / weights)));
      break;
    }
    for (const j of satisfied) {
      shares.set(j.jobId, j.demand);
      left -= j.demand;
    }
    open = open.filter((j) => !satisfied.includes(j));
  }
  return shares;
}
