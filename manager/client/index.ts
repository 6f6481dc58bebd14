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
} from './batch-grid-client';
export { InvalidOptionError, JobIdTakenError, JobInputError, JobStartError, JobStateError, PipelineSourceError, ScheduleError } from './errors';
export type { UploadProgress } from './input';
export type { PipelineInput } from './pipeline-source';
export type { JobProgressView, StageProgressView } from './progress';
export type { ResultEntry, ResultOutput } from './results';
export { SCHEDULE_ID_PATTERN, type ScheduleInfo } from './schedules';
