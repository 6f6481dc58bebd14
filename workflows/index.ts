export { batchJob, progressQuery, pauseSignal, resumeSignal } from './batch-job';
export type { BatchJobInput, BatchJobOptions, JobProgress, StageStatus } from './batch-job';
export { fleetAutoscaler, scaleUpdate, configureSignal, stopSignal, autoscalerStatusQuery } from './autoscaler';
export type { FleetAutoscalerInput, ScaleRequest, ScaleOutcome, StopRequest, AutoscalerStatus } from './autoscaler';
