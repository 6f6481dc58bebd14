/** Performance reports of jobs: figures from the store (`jobReport`), shaped for JSON and rendered as tables. */
export { buildJobReport, cacheOf, DEFAULT_SLOWEST, jobReport } from './job-report';
export type { JobReport, JobReportOptions, JobReportRows, PartStats, Percentiles, SlowPart, StageReport, WorkerReport } from './job-report';
export { buildJobCost, fleetCost, fleetWindow, idleShare, MS_PER_HOUR, priced, stageFleet } from './cost';
export { fleetCostReport } from './fleet-cost';
export type { FleetCost, FleetWindow, JobCost, StageCost } from './cost';
export { alignedTable, cacheTable, formatCost, formatMs, renderFleetCost, renderReport } from './render';
