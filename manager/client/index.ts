/** The batchgrid client library (see `BatchGridClient`). */
export { BatchGridClient } from './batch-grid-client';
export type {
  BatchGridClientOptions,
  CreateScheduleOptions,
  JobDetails,
  JobPage,
  JobResults,
  ListOptions,
  ResultsOptions,
  RetryOptions,
  SubmitOptions,
  SubmitResult,
  TuneRequest,
} from './batch-grid-client';
export { databaseStatus, listFleetWorkers, migrateDatabase, type DatabaseOptions } from './database';
export { InvalidOptionError, JobIdTakenError, JobInputError, JobStartError, JobStateError, PipelineSourceError, ScheduleError } from './errors';
export type { UploadProgress } from './input';
export type { PipelineInput } from './pipeline-source';
export type { AttemptOutcome, PartAttemptView, PartDetails } from './part';
export type { JobProgressView, StageProgressView } from './progress';
export type { ResultEntry, ResultOutput } from './results';
export { SCHEDULE_ID_PATTERN, type ScheduleInfo } from './schedules';
export type { InputUploadOptions, UploadedInput } from './upload';
// The vocabulary the client speaks, so its callers need not reach into the store or the grid.
export type { JobTune } from '../../pipeline/tune';
export { TERMINAL_JOB_STATUSES, type JobStatus } from '../../common/status';
export type { Job } from '../../store/jobs';
export type { FleetStatus, ScaleResult, WorkerStats } from '../../grid/service';
export type { FleetDef } from '../../grid/types';
