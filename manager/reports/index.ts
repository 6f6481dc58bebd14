/** Performance reports of jobs: figures from the store (`jobReport`), shaped for JSON and rendered as tables. */
export { buildJobReport, DEFAULT_SLOWEST, jobReport } from './job-report';
export type { JobReport, JobReportOptions, JobReportRows, PartStats, Percentiles, SlowPart, StageReport, WorkerReport } from './job-report';
export { alignedTable, formatMs, renderReport } from './render';
