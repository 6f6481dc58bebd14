import type { ActivityDeps } from './deps';
import { createGridActivities } from './grid';
import { createJobActivities } from './job-state';
import { createPlanStage } from './plan-stage';
import { createRunStage } from './run-stage';

export type { ActivityDeps } from './deps';
export type { BeginJobInput, BegunJob, JobSummary, FinishJobInput } from './job-state';
export type { PlanStageInput, StagePlan } from './plan-stage';
export type { RunStageInput, StageResult, StageSource } from './run-stage';

/** Every activity of the orchestrator, bound to its clients. Workflows import only this type. */
export function createActivities(deps: ActivityDeps) {
  return {
    planStage: createPlanStage(deps),
    runStage: createRunStage(deps),
    ...createJobActivities(deps),
    ...createGridActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
