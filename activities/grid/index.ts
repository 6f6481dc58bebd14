import type { ActivityDeps } from '../deps';
import { createAutoscalerActivities } from './autoscale';

export type { AutoscaleTickInput, AutoscaleTickResult, AutoscalerState, ReleaseFleetInput } from './autoscale';
export { initialAutoscalerState } from './autoscale';
export { shutdownLocalFleets, releaseLocalFleet } from './fleet-providers';
export { drainWorkerEvents } from './events';

/** The grid's activities (the fleet autoscaler), merged into the orchestrator's by activities/index.ts. */
export function createGridActivities(deps: ActivityDeps) {
  return createAutoscalerActivities(deps);
}
