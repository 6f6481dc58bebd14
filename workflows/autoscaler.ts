import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AutoscaleTickResult, AutoscalerState } from '../activities/grid';
import { initialPolicyState } from '../grid/policy';
import type { FleetDef } from '../grid/types';

export interface FleetAutoscalerInput {
  fleet: FleetDef;
  /** Carried over by continue-as-new. */
  state?: AutoscalerState;
  /** Ticks before the workflow continues as new, keeping its history small. Default: 200. */
  ticksPerRun?: number;
}

export interface ScaleRequest {
  desired: number;
}

export interface ScaleOutcome {
  previous: number;
  desired: number;
  reason: string;
}

export interface StopRequest {
  /** Bring an ASG fleet to its minimum too (a local fleet always stops with its autoscaler). */
  scaleToZero?: boolean;
}

export interface AutoscalerStatus {
  fleet: FleetDef;
  /** Ticks in this run (since the last continue-as-new). */
  ticks: number;
  last?: AutoscaleTickResult;
  /** The last tick's failure, if it failed. */
  lastError?: string;
  stopping: boolean;
}

/** Resize the fleet now (`batchgrid grid scale`): answered with the decision once applied. */
export const scaleUpdate = defineUpdate<ScaleOutcome, [ScaleRequest]>('scale');
/** Replace the fleet definition (`batchgrid grid start` on a running autoscaler). */
export const configureSignal = defineSignal<[FleetDef]>('configure');
/** End the autoscaler (`batchgrid grid stop`). */
export const stopSignal = defineSignal<[StopRequest]>('stop');
export const autoscalerStatusQuery = defineQuery<AutoscalerStatus>('status');

/** One autoscaler per fleet. */
export const autoscalerWorkflowId = (fleet: string): string => `autoscaler-${fleet}`;

const message = (err: unknown) => (err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err));

/**
 * The autoscaler of one fleet: every `period` one activity drains worker events, reads the backlog
 * and the provider, applies the policy and records the decision. Manual resizes (update `scale`)
 * and new definitions (signal `configure`) are applied at once, between ticks, so the policy and
 * the operator never act at the same time. A failed tick is logged and retried next period.
 * Continues as new every `ticksPerRun` ticks (about 8 history events per tick).
 */
export async function fleetAutoscaler(input: FleetAutoscalerInput): Promise<{ ticks: number; stopped: true }> {
  let def = input.fleet;
  let state: AutoscalerState = input.state ?? { policy: initialPolicyState(), lastRecordAt: null, lastRecorded: null };
  const ticksPerRun = input.ticksPerRun ?? 200;
  const { autoscaleTick } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { initialInterval: '1s', maximumAttempts: 3 } });
  const { releaseFleet } = proxyActivities<Activities>({ startToCloseTimeout: '1 hour', retry: { initialInterval: '1s', maximumInterval: '30s' } });

  const pending: { request: ScaleRequest; outcome?: ScaleOutcome; error?: string }[] = [];
  let replaced: FleetDef | undefined; // a definition whose local workers must be released (provider changed)
  let wake = false;
  let stop: StopRequest | undefined;
  let closing = false;
  let last: AutoscaleTickResult | undefined;
  let lastError: string | undefined;
  let ticks = 0;

  setHandler(autoscalerStatusQuery, () => ({ fleet: def, ticks, last, lastError, stopping: stop !== undefined }));
  setHandler(stopSignal, (request) => void (stop = request ?? {}));
  setHandler(configureSignal, (next) => {
    if (next.name !== def.name) {
      log.warn('ignoring a definition for another fleet', { fleet: def.name, got: next.name });
      return;
    }
    if (def.provider.type === 'local' && next.provider.type !== 'local') replaced = def;
    def = next;
    wake = true;
  });
  setHandler(
    scaleUpdate,
    async (request) => {
      const entry: (typeof pending)[number] = { request };
      if (closing) throw ApplicationFailure.create({ message: `the autoscaler of ${def.name} is ${stop ? 'stopping' : 'restarting (continue-as-new)'}; try again`, type: 'AutoscalerBusy' });
      pending.push(entry);
      await condition(() => entry.outcome !== undefined || entry.error !== undefined);
      if (entry.error !== undefined) throw ApplicationFailure.create({ message: entry.error, type: 'ScaleFailed', nonRetryable: true });
      return entry.outcome!;
    },
    {
      validator: (request) => {
        if (!Number.isInteger(request?.desired) || request.desired < 0) throw new Error(`desired must be a whole number >= 0 (got ${request?.desired})`);
        if (def.provider.type === 'static') throw new Error(`Fleet ${def.name} is static (${def.provider.size} workers): batchgrid cannot resize it.`);
        if (stop) throw new Error(`the autoscaler of ${def.name} is stopping`);
      },
    },
  );

  while ((ticks < ticksPerRun && !workflowInfo().continueAsNewSuggested) || pending.length > 0) {
    if (stop) break;
    if (replaced) {
      await releaseFleet({ fleet: replaced });
      replaced = undefined;
    }
    const entry = pending.shift();
    try {
      last = await autoscaleTick({ fleet: def, state, ...(entry ? { manual: { desired: entry.request.desired } } : {}) });
      state = last.state;
      lastError = undefined;
      if (entry) entry.outcome = { previous: last.previous, desired: last.desired, reason: last.reason };
    } catch (err) {
      lastError = message(err);
      log.warn('autoscaler tick failed; trying again next period', { fleet: def.name, error: lastError });
      if (entry) entry.error = lastError;
    }
    ticks += 1;
    if (pending.length === 0 && !stop) await condition(() => pending.length > 0 || stop !== undefined || wake, def.periodMs);
    wake = false;
  }

  closing = true;
  for (const entry of pending.splice(0)) entry.error = `the autoscaler of ${def.name} is ${stop ? 'stopping' : 'restarting'}; try again`;
  if (stop) {
    await releaseFleet({ fleet: def, scaleToZero: stop.scaleToZero });
    await condition(allHandlersFinished);
    log.info('autoscaler stopped', { fleet: def.name, ticks });
    return { ticks, stopped: true };
  }
  await condition(allHandlersFinished);
  return continueAsNew<typeof fleetAutoscaler>({ fleet: def, state, ticksPerRun });
}
