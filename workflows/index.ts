export { batchJob, progressQuery, pauseSignal, resumeSignal } from './batch-job';
export type { BatchJobInput, BatchJobOptions, JobProgress, StageStatus } from './batch-job';
