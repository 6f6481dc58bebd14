import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { decide, decideManual, initialPolicyState, type DecisionKind, type PolicyState } from '../../grid/policy';
import type { FleetDef } from '../../grid/types';
import { saveFleetObservation } from '../../store/fleet-state';
import { recordDecision } from '../../store/scaling';
import { listWorkers, markLostWorkers } from '../../store/workers';
import { ensureFleetQueues, type FleetQueues } from '../../common/sqs/queues';
import { fleetBacklog } from '../../store/backlog';
import type { ActivityDeps } from '../deps';
import { drainWorkerEvents } from './events';
import { providerFor, releaseLocalFleet } from './fleet-providers';

/** A steady fleet is recorded at most this often, and only when what it sees changed. */
export const STEADY_RECORD_INTERVAL_MS = 60_000;

/** What the autoscaler carries from tick to tick (and across continue-as-new). */
export interface AutoscalerState {
  policy: PolicyState;
  /** Epoch ms of the last recorded decision. */
  lastRecordAt: number | null;
  /** What that decision saw, to skip recording a steady fleet that did not change. */
  lastRecorded: { desired: number; workers: number; visible: number; inFlight: number } | null;
}

export const initialAutoscalerState = (): AutoscalerState => ({ policy: initialPolicyState(), lastRecordAt: null, lastRecorded: null });

export interface AutoscaleTickInput {
  fleet: FleetDef;
  state: AutoscalerState;
  /** A manual resize to apply in this tick instead of the policy (clamped to min/max). */
  manual?: { desired: number };
}

export interface AutoscaleTickResult {
  state: AutoscalerState;
  /** Epoch ms of the observation. */
  at: number;
  visible: number;
  inFlight: number;
  /** Provider's desired capacity before this tick, and after. */
  previous: number;
  desired: number;
  /** Instances up per the provider. */
  actual: number;
  kind: DecisionKind;
  reason: string;
  changed: boolean;
  recorded: boolean;
  eventsApplied: number;
  lost: string[];
}

export interface ReleaseFleetInput {
  fleet: FleetDef;
  /** Also bring an ASG to its minimum (a local fleet always stops: its workers are this process's children). */
  scaleToZero?: boolean;
}

/** The autoscaler's activities: one tick of observe → decide → act → record, and releasing a fleet. */
export function createAutoscalerActivities(deps: ActivityDeps) {
  const queues = new Map<string, Promise<FleetQueues>>();
  const queuesOf = (fleet: string): Promise<FleetQueues> => {
    let q = queues.get(fleet);
    if (!q) {
      q = ensureFleetQueues(deps.aws.sqs, deps.queuePrefix, fleet);
      q.catch(() => queues.delete(fleet));
      queues.set(fleet, q);
    }
    return q;
  };
  const ctx = { aws: deps.aws, db: deps.db, queuePrefix: deps.queuePrefix, log: deps.log };

  /**
   * Drains the fleet's worker events into Postgres, marks silent workers lost, reads the input
   * queue's backlog and the provider's capacity, applies the policy (or a manual resize), asks the
   * provider for the result, and records the decision when it changed something (or, for a steady
   * fleet whose numbers moved, at most once a minute).
   */
  async function autoscaleTick(input: AutoscaleTickInput): Promise<AutoscaleTickResult> {
    const def = input.fleet;
    const log = deps.log.child({ fleet: def.name });
    const provider = providerFor(def, ctx);
    const { inputQueueUrl, eventsQueueUrl } = await queuesOf(def.name);

    const eventsApplied = await drainWorkerEvents({ sqs: deps.aws.sqs, db: deps.db, queueUrl: eventsQueueUrl, log });
    const lost = await markLostWorkers(deps.db, def.name, def.workerLostAfterMs);
    if (lost.length > 0) log.warn({ workers: lost }, 'fleet workers lost (no events for workerLostAfter)');

    const [attrs, capacity, live, backlog] = await Promise.all([
      deps.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: inputQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })),
      provider.describe(),
      listWorkers(deps.db, { fleet: def.name, liveWithinMs: def.workerLostAfterMs }),
      fleetBacklog(deps.db, def.name),
    ]);
    const visible = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const now = Date.now();
    // An ASG's own MinSize/MaxSize narrow the definition's bounds (AWS refuses a desired capacity outside them).
    const min = Math.max(def.min, capacity.min);
    const max = Math.max(min, Math.min(def.max, capacity.max));
    const settings = { min, max, targetBacklogPerWorker: def.targetBacklogPerWorker, targetWorkPerWorkerMs: def.targetWorkPerWorkerMs, scaleInCooldownMs: def.scaleInCooldownMs, idleTimeoutMs: def.idleTimeoutMs };
    const observation = { now, visible, inFlight, current: capacity.desired, unsent: backlog.unsent, sent: backlog.sent, timed: backlog.timed };
    const decision = input.manual ? decideManual(settings, observation, input.manual.desired) : decide(settings, observation, input.state.policy);

    const busySlots = Object.fromEntries(live.map((w) => [w.instanceId, w.busySlots]));
    if (decision.changed) {
      log.info({ previous: capacity.desired, desired: decision.desired, visible, inFlight, reason: decision.reason }, 'scaling fleet');
      await provider.setDesired(decision.desired, { busySlots });
    } else {
      await provider.reconcile?.({ busySlots });
    }

    const snapshot = { desired: decision.desired, workers: capacity.actual, visible: visible + backlog.unsent, inFlight };
    const last = input.state.lastRecorded;
    // Before any record, compare with an empty fleet: an idle fleet at zero is not worth a row.
    const seen = last ?? { desired: 0, workers: 0, visible: 0, inFlight: 0 };
    const moved = seen.desired !== snapshot.desired || seen.workers !== snapshot.workers || seen.visible !== snapshot.visible || seen.inFlight !== snapshot.inFlight;
    const due = input.state.lastRecordAt === null || now - input.state.lastRecordAt >= STEADY_RECORD_INTERVAL_MS;
    const record = decision.changed || decision.kind === 'manual' || (due && moved);
    if (record) {
      await recordDecision(deps.db, { fleet: def.name, visible, inFlight, workers: capacity.actual, desired: decision.desired, previous: capacity.desired, reason: decision.reason });
    }
    await saveFleetObservation(deps.db, {
      fleet: def.name, provider: def.provider.type, desired: decision.desired, min, max, definition: def, actual: capacity.actual, visible, inFlight,
    });
    return {
      state: { policy: decision.state, lastRecordAt: record ? now : input.state.lastRecordAt, lastRecorded: record ? snapshot : last },
      at: now, visible, inFlight, previous: capacity.desired, desired: decision.desired, actual: capacity.actual,
      kind: decision.kind, reason: decision.reason, changed: decision.changed, recorded: record, eventsApplied, lost,
    };
  }

  /**
   * The autoscaler is stopping: a local fleet's workers are stopped (they would run on unmanaged),
   * an ASG is brought to its minimum only when asked, a static fleet is left alone. Records why.
   */
  async function releaseFleet(input: ReleaseFleetInput): Promise<{ desired: number | null }> {
    const def = input.fleet;
    const provider = providerFor(def, ctx);
    const before = await provider.describe();
    let desired: number | null = null;
    if (def.provider.type === 'local') {
      await releaseLocalFleet(deps.queuePrefix, def.name);
      desired = 0;
    } else if (def.provider.type === 'asg' && input.scaleToZero) {
      desired = before.min;
      await provider.setDesired(desired);
    }
    // Last drain: the stopped workers' final counters would otherwise wait for the next autoscaler.
    const { eventsQueueUrl } = await queuesOf(def.name);
    await drainWorkerEvents({ sqs: deps.aws.sqs, db: deps.db, queueUrl: eventsQueueUrl, log: deps.log.child({ fleet: def.name }) });
    if (desired !== null) {
      await recordDecision(deps.db, { fleet: def.name, visible: 0, inFlight: 0, workers: before.actual, desired, previous: before.desired, reason: 'stopped: autoscaler stopped, fleet released' });
      await saveFleetObservation(deps.db, { fleet: def.name, provider: def.provider.type, desired, min: def.min, max: def.max, definition: def, actual: 0, visible: null, inFlight: null });
    }
    return { desired };
  }

  return { autoscaleTick, releaseFleet };
}
