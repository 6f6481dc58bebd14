/**
 * The autoscaling policy: backlog per worker → desired capacity. Pure and deterministic (time comes
 * in as `now`), so it is unit-tested on its own and safe to import anywhere, workflows included.
 *
 * The backlog is the fleet's whole remaining work in *parts*: the parts of its running stages not
 * sent yet (waiting behind their jobs' windows, or for a retry) plus those sent and not finished
 * (from the store), or the queue's messages when those are more (another engine's jobs).
 * `targetBacklogPerWorker` is in parts; set it near a worker's concurrency.
 */

export interface PolicySettings {
  min: number;
  max: number;
  targetBacklogPerWorker: number;
  /** Expected work one worker should carry, in ms; undefined: count parts only. */
  targetWorkPerWorkerMs?: number;
  scaleInCooldownMs: number;
  idleTimeoutMs: number;
}

/** What the policy remembers between ticks (carried by the autoscaler workflow). */
export interface PolicyState {
  /** Epoch ms since when the backlog has called for fewer workers than desired, continuously. */
  belowSince: number | null;
  /** Epoch ms since when the queue has been empty (nothing visible, nothing in flight). */
  emptySince: number | null;
}

export const initialPolicyState = (): PolicyState => ({ belowSince: null, emptySince: null });

export interface Observation {
  /** Epoch ms of the observation. */
  now: number;
  /** Messages waiting in the fleet's input queue. */
  visible: number;
  /** Messages received by workers and not yet deleted. */
  inFlight: number;
  /** Parts of the fleet's running stages not sent yet: behind their jobs' windows, or waiting for a retry. Default: 0. */
  unsent?: number;
  /** Parts of the fleet's running stages sent and not finished (queued or running). Default: 0. */
  sent?: number;
  /**
   * Of the remaining parts (unsent + sent), those of stages whose mean run time is known, and
   * their expected work: parts × mean run time, in ms. Default: none known.
   */
  timed?: { parts: number; workMs: number };
  /** The provider's desired capacity now. */
  current: number;
}

/** Why the desired capacity is what it is; the first word of a recorded decision's reason. */
export type DecisionKind = 'queued from zero' | 'scale out' | 'scale in' | 'idle' | 'above max' | 'below min' | 'manual' | 'steady';

export interface PolicyDecision {
  desired: number;
  kind: DecisionKind;
  /** `kind: details`, as recorded in scaling_decisions. */
  reason: string;
  changed: boolean;
  state: PolicyState;
}

export const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, n));

/** The whole backlog in parts: what is not sent yet, plus what is out (the store's count, or the queue's when larger). */
export const backlogOf = (o: Observation): number => (o.unsent ?? 0) + Math.max(o.visible + o.inFlight, o.sent ?? 0);

/**
 * What the backlog alone asks for, clamped to [min, max]: ceil(backlog / targetBacklogPerWorker),
 * or with `targetWorkPerWorkerMs` and known run times, ceil(expected work / targetWorkPerWorkerMs
 * + the other parts / targetBacklogPerWorker).
 */
export function backlogTarget(s: PolicySettings, backlog: number, timed?: Observation['timed']): number {
  const byWork = s.targetWorkPerWorkerMs !== undefined && timed !== undefined && timed.parts > 0;
  const workers = byWork ? timed.workMs / s.targetWorkPerWorkerMs! + Math.max(0, backlog - timed.parts) / s.targetBacklogPerWorker : backlog / s.targetBacklogPerWorker;
  return clamp(Math.ceil(workers), s.min, s.max);
}

/** "1 h 5 min", "42 s": a duration for a decision's reason. */
function roughDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/**
 * One tick of the policy. Scale out at once; scale in only once the backlog has asked for fewer
 * workers for `scaleInCooldownMs` without a break, and never to zero that way; go to zero only
 * after `idleTimeoutMs` of an empty queue; leave zero as soon as anything is queued. Bounds
 * (min/max changed by a new definition) apply at once.
 */
export function decide(s: PolicySettings, o: Observation, state: PolicyState): PolicyDecision {
  const backlog = backlogOf(o);
  const target = backlogTarget(s, backlog, o.timed);
  const emptySince = backlog === 0 ? (state.emptySince ?? o.now) : null;
  const behind = o.unsent ? `${o.unsent} parts behind job windows + ` : '';
  const work =
    s.targetWorkPerWorkerMs !== undefined && o.timed && o.timed.parts > 0
      ? `; expected work ${roughDuration(o.timed.workMs)} in ${o.timed.parts} parts of known run time, target ${roughDuration(s.targetWorkPerWorkerMs)} per worker`
      : '';
  const detail = `${behind}${o.visible} queued + ${o.inFlight} in flight, target ${s.targetBacklogPerWorker} per worker${work}`;
  const to = (desired: number, kind: DecisionKind, why: string, belowSince: number | null = null): PolicyDecision => ({
    desired,
    kind,
    reason: `${kind}: ${why}`,
    changed: desired !== o.current,
    state: { belowSince, emptySince },
  });

  if (o.current > s.max) return to(s.max, 'above max', `max is ${s.max}`);
  if (o.current < s.min) return to(target, 'below min', `min is ${s.min}`);
  if (o.current === 0 && backlog > 0 && s.max > 0) return to(Math.max(1, target), 'queued from zero', detail);
  if (target > o.current) return to(target, 'scale out', detail);

  if (o.current > 0 && s.min === 0 && emptySince !== null && o.now - emptySince >= s.idleTimeoutMs) {
    return to(0, 'idle', `queue empty for ${Math.round((o.now - emptySince) / 1000)}s`);
  }
  // Shrinking by cooldown stops at one worker: only the idle rule empties the fleet.
  const floor = Math.max(target, Math.min(o.current, Math.max(s.min, 1)));
  if (floor < o.current) {
    const belowSince = state.belowSince ?? o.now;
    if (o.now - belowSince >= s.scaleInCooldownMs) return to(floor, 'scale in', detail);
    return to(o.current, 'steady', `${detail}; scale-in cooling down`, belowSince);
  }
  return to(o.current, 'steady', detail);
}

/**
 * A manual resize (`batchgrid grid scale`): clamped to [min, max]; it restarts the scale-in and
 * idle clocks, so it holds for at least `scaleInCooldownMs` unless the backlog asks for more.
 */
export function decideManual(s: PolicySettings, o: Observation, requested: number): PolicyDecision {
  const desired = clamp(requested, s.min, s.max);
  const backlog = backlogOf(o);
  const clamped = desired === requested ? '' : ` (asked ${requested}, clamped to ${s.min}..${s.max})`;
  return {
    desired,
    kind: 'manual',
    reason: `manual: set to ${desired}${clamped}`,
    changed: desired !== o.current,
    state: { belowSince: null, emptySince: backlog === 0 ? o.now : null },
  };
}
