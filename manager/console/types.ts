/**
 * The API's answers as the console reads them: the server's own types (type imports only, erased
 * from the bundle) as they travel in JSON, times as ISO strings. GET /v1/openapi.json has the schemas.
 */
import type { FleetStatus, WorkerStats } from '../../grid/service';
import type { StageDef } from '../../pipeline/types';
import type { JobProgressView, StageProgressView } from '../client/progress';
import type { ScheduleInfo } from '../client/schedules';
import type { JobReport } from '../reports';
import type { Job as JobRow } from '../../store/jobs';
import type { JobCharts, PartRow } from '../../store/parts';
import type { ScalingDecision } from '../../store/scaling';

/** T as JSON.parse gives it back: dates are strings. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type JobStatus = JobRow['status'];
export const JOB_STATUSES: JobStatus[] = ['scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
export const PART_STATUSES = ['queued', 'retry_wait', 'succeeded', 'failed'] as const;

export type StageProgress = Json<StageProgressView>;
export type Progress = Json<JobProgressView>;
export type { StageDef };

export type Job = Json<Omit<JobRow, 'definition'>> & {
  definition: { name: string; stages: StageDef[]; fleet?: string; priority?: number };
  /** The lead's job priorities (issue 10): shown when the API has it. */
  priority?: number;
  progress?: StageProgress[];
};

export type Part = Json<PartRow>;
export type Report = Json<JobReport>;
/** Null when no part has finished. */
export type Percentiles = NonNullable<Report['runTimeMs']>;
export type Charts = JobCharts;
export type Histogram = JobCharts['runTime'];
export type Decision = Json<Omit<ScalingDecision, 'id' | 'fleet'>>;
export type Fleet = Json<Omit<FleetStatus, 'definition' | 'updatedAt' | 'decisions'>> & {
  pricePerWorkerHour: number | null;
  costPerHour: number | null;
  decisions: Decision[];
  workers?: Json<WorkerStats>[];
};
export type Schedule = Json<ScheduleInfo>;
