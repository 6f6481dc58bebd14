/**
 * batchgrid's public API: `import { BatchGridClient } from 'batchgrid'`.
 * The client submits pipelines, follows and controls jobs, fetches results and manages schedules.
 */
export * from './client';
export { JobNotFoundError, PartNotFoundError, PipelineValidationError, ServiceUnavailableError } from '../common/errors';
export type { JobSummary } from '../activities/job-state';
export type { StageResult } from '../activities/run-stage';
export type { StageRun } from '../store/stage-runs';
export type { JobStatus, StageStatus, StageMode } from '../common/status';
export type { PipelineDef, StageDef, Problem } from '../pipeline/types';

/** The handler API, for task modules run by `batchgrid fleet-worker --tasks`. */
export { defineTask, PermanentTaskError, type TaskContext, type TaskDefinition } from '../worker';
