import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { getFleetState, listFleetStates, type FleetState } from '../store/fleet-state';
import { listDecisions, recordDecision, type ScalingDecision } from '../store/scaling';
import { listWorkers, type Worker } from '../store/workers';
import { autoscalerWorkflowId, configureSignal, fleetAutoscaler, scaleUpdate, stopSignal, type ScaleOutcome } from '../workflows/autoscaler';
import { FleetNotFoundError, FleetProviderError } from './errors';
import { clamp } from './policy';
import { AsgProvider } from './providers/asg';
import type { FleetDef } from './types';

/**
 * The grid's operations as functions over the store and Temporal: what the CLI (`batchgrid
 * workers`, `batchgrid grid …`) calls, and what the HTTP API will call.
 */
export interface GridDeps {
  db: Pool;
  temporal: Client;
  /** Task queue of the orchestrator (runs the autoscaler workflows and their activities). */
  taskQueue: string;
  /** For resizing an ASG fleet that has no autoscaler running. */
  autoScaling?: AutoScalingClient;
}

export interface WorkerStats extends Worker {
  /** busySlots / slots, 0..1 (0 for a worker with no slots). */
  load: number;
}

/** Fleet workers, most recently seen first: by default those up; `all` adds stopped and lost ones. */
export async function listWorkerStats(db: Pool, options: { fleet?: string; all?: boolean } = {}): Promise<WorkerStats[]> {
  const workers = await listWorkers(db, { fleet: options.fleet });
  return workers.filter((w) => options.all || w.status === 'up').map((w) => ({ ...w, load: w.slots > 0 ? w.busySlots / w.slots : 0 }));
}

export interface FleetStatus extends FleetState {
  /** An autoscaler workflow is running for the fleet. */
  autoscaler: 'running' | 'stopped';
  /** Workers up (per their events). */
  workersUp: number;
  /** The latest decisions, newest first. */
  decisions: ScalingDecision[];
}

/** Every fleet the store knows (or only `fleet`): provider, desired/actual, bounds, backlog, autoscaler, latest decisions. */
export async function gridStatus(deps: Pick<GridDeps, 'db' | 'temporal'>, options: { fleet?: string; decisions?: number } = {}): Promise<FleetStatus[]> {
  const states = options.fleet ? [await getFleetState(deps.db, options.fleet)].filter((s): s is FleetState => s !== undefined) : await listFleetStates(deps.db);
  if (options.fleet && states.length === 0) throw new FleetNotFoundError(options.fleet);
  return Promise.all(
    states.map(async (s) => ({
      ...s,
      autoscaler: (await autoscalerRunning(deps.temporal, s.fleet)) ? ('running' as const) : ('stopped' as const),
      workersUp: (await listWorkers(deps.db, { fleet: s.fleet })).filter((w) => w.status === 'up').length,
      decisions: await listDecisions(deps.db, s.fleet, options.decisions ?? 5),
    })),
  );
}

/** True when the fleet's autoscaler workflow is running. */
export async function autoscalerRunning(temporal: Client, fleet: string): Promise<boolean> {
  try {
    const d = await temporal.workflow.getHandle(autoscalerWorkflowId(fleet)).describe();
    return d.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Starts the fleet's autoscaler; if one runs, hands it the new definition instead. */
export async function startAutoscaler(deps: Pick<GridDeps, 'temporal' | 'taskQueue'>, fleet: FleetDef): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = autoscalerWorkflowId(fleet.name);
  try {
    await deps.temporal.workflow.start(fleetAutoscaler, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [{ fleet }],
      staticSummary: `batchgrid autoscaler of fleet ${fleet.name} (${fleet.provider.type}, ${fleet.min}..${fleet.max} workers)`,
    });
    return { workflowId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    await deps.temporal.workflow.getHandle(workflowId).signal(configureSignal, fleet);
    return { workflowId, started: false };
  }
}

/**
 * Stops the fleet's autoscaler. A local fleet's workers stop with it; an ASG keeps its capacity
 * unless `scaleToZero` (then it goes to its MinSize). `wait` waits for the workflow to finish.
 */
export async function stopAutoscaler(deps: Pick<GridDeps, 'temporal'>, fleet: string, options: { scaleToZero?: boolean; wait?: boolean } = {}): Promise<{ stopped: boolean }> {
  const handle = deps.temporal.workflow.getHandle(autoscalerWorkflowId(fleet));
  try {
    await handle.signal(stopSignal, { scaleToZero: options.scaleToZero });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { stopped: false };
    throw err;
  }
  if (options.wait) await handle.result();
  return { stopped: true };
}

export interface ScaleResult extends ScaleOutcome {
  /** `autoscaler`: applied by the running autoscaler; `direct`: applied to the ASG by this call. */
  via: 'autoscaler' | 'direct';
}

/**
 * Resizes a fleet by hand, clamped to its min/max, recorded as a `manual` decision. With the
 * autoscaler running the request goes through it (a workflow update, answered once applied), so
 * the two never disagree: the policy then carries on from the new size and shrinks it no sooner
 * than scaleInCooldown. Without one, only an ASG fleet can be resized (directly).
 */
export async function scaleFleet(deps: GridDeps, fleet: string, desired: number): Promise<ScaleResult> {
  if (!Number.isInteger(desired) || desired < 0) throw new RangeError(`desired must be a whole number >= 0 (got ${desired}).`);
  if (await autoscalerRunning(deps.temporal, fleet)) {
    try {
      const outcome = await deps.temporal.workflow.getHandle(autoscalerWorkflowId(fleet)).executeUpdate(scaleUpdate, { args: [{ desired }] });
      return { ...outcome, via: 'autoscaler' };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof Error) throw new FleetProviderError(fleet, 'autoscaler', err.cause.message, { cause: err });
      throw err;
    }
  }
  const state = await getFleetState(deps.db, fleet);
  const def = state?.definition as FleetDef | undefined;
  if (!state || !def) throw new FleetNotFoundError(fleet);
  if (def.provider.type !== 'asg') {
    const why =
      def.provider.type === 'local'
        ? 'its workers are processes of the orchestrator running its autoscaler: start it with `batchgrid grid start FLEET_FILE`'
        : `it is static (${def.provider.size} workers)`;
    throw new FleetProviderError(fleet, def.provider.type, `Cannot resize fleet ${fleet}: ${why}.`);
  }
  if (!deps.autoScaling) throw new Error('scaleFleet needs an Auto Scaling client to resize an ASG fleet directly.');
  const provider = new AsgProvider({ autoScaling: deps.autoScaling, groupName: def.provider.groupName, fleet, lifecycleHook: def.provider.lifecycleHook });
  const before = await provider.describe();
  const min = Math.max(def.min, before.min);
  const max = Math.max(min, Math.min(def.max, before.max));
  const target = clamp(desired, min, max);
  await provider.setDesired(target);
  const reason = `manual: set to ${target}${target === desired ? '' : ` (asked ${desired}, clamped to ${min}..${max})`}, no autoscaler running`;
  await recordDecision(deps.db, { fleet, visible: state.visible ?? 0, inFlight: state.inFlight ?? 0, workers: before.actual, desired: target, previous: before.desired, reason });
  return { previous: before.desired, desired: target, reason, via: 'direct' };
}
