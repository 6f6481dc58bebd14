import type { CacheCounts } from '../../store/part-cache';
import { JobNotFoundError } from '../../common/errors';
import type { FinalPartStatus, JobStatus, StageStatus } from '../../common/status';
import { getJob, type Job } from '../../store/jobs';
import type { Queryable } from '../../store/db';
import { partStats, slowestParts, workerStats, type PartStatsRow, type SlowPartRow, type WorkerStatsRow } from '../../store/reports';
import { getStageRuns, type StageRun } from '../../store/stage-runs';
import { fleetPrices, fleetUsage, stageBusy, type StageBusyRow } from '../../store/cost';
import { buildJobCost, fleetWindow, stageFleet, type FleetWindow, type JobCost, type StageCost } from './cost';

export type { Percentiles } from '../../store/reports';

/** Part counts, bytes and timing percentiles (of finished parts), for a stage or the whole job. */
export type PartStats = Omit<PartStatsRow, 'stageId'>;

/** One of the slowest finished parts. */
export interface SlowPart {
  stageId: string;
  part: number;
  workerId: string | null;
  runTimeMs: number;
  attempt: number;
  status: FinalPartStatus;
}

/** One stage of the report, in pipeline order. */
export interface StageReport extends PartStats {
  stageId: string;
  task: string;
  /** `pending` until the stage starts planning. */
  status: StageStatus;
  /** Known once planned; null before. */
  partsTotal: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** stage started → finished (or → the report's time while it runs), ms; null before it starts. */
  wallMs: number | null;
  /** Succeeded parts per second of wall time; null without wall time. */
  throughput: number | null;
  /** The stage's slowest finished parts, longest first. */
  slowest: SlowPart[];
  /** Busy and idle-share worker time on its fleet, and their price (docs/api.md, "Cost"). */
  cost: StageCost;
  /** A finished stage with `cache: true`: parts reused from the part cache, parts run, run time saved. */
  cache?: CacheCounts;
}

/** What one worker did for the job (the parts whose latest attempt ran on it). */
export type WorkerReport = WorkerStatsRow;

/** A job's performance report: job-wide figures, then per stage, the slowest parts and per worker. */
export interface JobReport extends PartStats {
  jobId: string;
  pipeline: string;
  status: JobStatus;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** job started → finished (or → `generatedAt` while it runs), ms; null before it starts. */
  makespanMs: number | null;
  /** Succeeded parts (every stage) per second of makespan; null without makespan. */
  throughput: number | null;
  stages: StageReport[];
  /** The job's slowest finished parts over all stages, longest first (at most `slowest`). */
  slowest: SlowPart[];
  /** Busiest first. */
  workers: WorkerReport[];
  /** What the job cost on each fleet it ran on (docs/api.md, "Cost"). */
  cost: JobCost;
  /** When the report was made: the end of the makespan and wall times of what still runs. */
  generatedAt: Date;
}

export interface JobReportOptions {
  /** How many of the slowest parts to list, per stage and for the job. Default: 10. */
  slowest?: number;
  /** The report's time. Default: now. */
  now?: Date;
}

/** What `buildJobReport` shapes: the store's rows for one job. */
export interface JobReportRows {
  job: Job;
  stageRuns: StageRun[];
  stats: PartStatsRow[];
  slowest: SlowPartRow[];
  workers: WorkerStatsRow[];
  /** Busy time per stage and each fleet over the job's run; none: no busy time, no price. */
  cost?: { stageBusy: StageBusyRow[]; fleets: FleetWindow[] };
}

export const DEFAULT_SLOWEST = 10;

/** The performance report of a job, from Postgres; JobNotFoundError when the job is unknown. */
export async function jobReport(db: Queryable, jobId: string, options: JobReportOptions = {}): Promise<JobReport> {
  const slowest = options.slowest ?? DEFAULT_SLOWEST;
  const job = await getJob(db, jobId);
  if (!job) throw new JobNotFoundError(jobId);
  const now = options.now ?? new Date();
  const [stageRuns, stats, slow, workers, cost] = await Promise.all([
    getStageRuns(db, jobId),
    partStats(db, jobId),
    slowestParts(db, jobId, slowest),
    workerStats(db, jobId),
    costRows(db, job, now),
  ]);
  return buildJobReport({ job, stageRuns, stats, slowest: slow, workers, cost }, { slowest, now });
}

/** The job's busy time per stage, and each fleet its stages name over its run (none before it starts). */
async function costRows(db: Queryable, job: Job, now: Date): Promise<NonNullable<JobReportRows['cost']>> {
  const fleets = [...new Set(job.definition.stages.map((s) => stageFleet(job.definition, s.id)))];
  const [busy, prices] = await Promise.all([stageBusy(db, job.jobId), fleetPrices(db, fleets)]);
  const start = job.startedAt;
  const windows = await Promise.all(
    fleets.map(async (f) => fleetWindow(f, start ? await fleetUsage(db, f, start, job.finishedAt ?? now, now) : { workers: 0, workerMs: 0, busyMs: 0 }, prices.get(f) ?? null)),
  );
  return { stageBusy: busy, fleets: windows };
}

const EMPTY_STATS: PartStats = { parts: 0, succeeded: 0, failed: 0, retried: 0, bytesIn: 0, bytesOut: 0, queueWaitMs: null, runTimeMs: null, busyMs: 0 };

const statsOf = (row: PartStatsRow | undefined): PartStats => {
  if (!row) return { ...EMPTY_STATS };
  const { stageId: _stageId, ...stats } = row;
  return stats;
};

/** ms from `start` to `end` (or `now`); null before the start. */
const span = (start: Date | null, end: Date | null, now: Date): number | null => (start ? Math.max(0, (end ?? now).getTime() - start.getTime()) : null);

/** Succeeded parts per second of `ms`. */
const rate = (succeeded: number, ms: number | null): number | null => (ms !== null && ms > 0 ? succeeded / (ms / 1000) : null);

/** Shapes the store's rows into a report (pure): stages in pipeline order, rates and spans at `now`. */
export function buildJobReport(rows: JobReportRows, options: JobReportOptions = {}): JobReport {
  const now = options.now ?? new Date();
  const limit = options.slowest ?? DEFAULT_SLOWEST;
  const { job } = rows;
  const slowOf = (stageId: string): SlowPart[] =>
    rows.slowest
      .filter((s) => s.stageId === stageId)
      .slice(0, limit)
      .map(slowPart);
  // Stages in definition order; a stage run the definition does not name (none should) goes last.
  const ids = [...job.definition.stages.map((s) => s.id), ...rows.stageRuns.map((r) => r.stageId)].filter((id, i, all) => all.indexOf(id) === i);
  const cost = buildJobCost(job.definition, ids, rows.cost?.stageBusy ?? [], rows.cost?.fleets ?? []);
  const stages = ids.map((stageId): StageReport => {
    const run = rows.stageRuns.find((r) => r.stageId === stageId);
    const stats = statsOf(rows.stats.find((s) => s.stageId === stageId));
    const wallMs = span(run?.startedAt ?? null, run?.finishedAt ?? null, now);
    return {
      stageId,
      task: run?.task ?? job.definition.stages.find((s) => s.id === stageId)?.task ?? '',
      status: run?.status ?? 'pending',
      partsTotal: run?.partsTotal ?? null,
      startedAt: run?.startedAt ?? null,
      finishedAt: run?.finishedAt ?? null,
      wallMs,
      throughput: rate(stats.succeeded, wallMs),
      ...stats,
      slowest: slowOf(stageId),
      cost: cost.stages.get(stageId)!,
      ...cacheOf(run?.summary),
    };
  });
  const totals = statsOf(rows.stats.find((s) => s.stageId === null));
  const makespanMs = span(job.startedAt, job.finishedAt, now);
  // The job's top N is within the union of every stage's top N.
  const slowest = rows.slowest
    .map(slowPart)
    .sort((a, b) => b.runTimeMs - a.runTimeMs || a.stageId.localeCompare(b.stageId) || a.part - b.part)
    .slice(0, limit);
  return {
    jobId: job.jobId,
    pipeline: job.pipelineName,
    status: job.status,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    makespanMs,
    throughput: rate(totals.succeeded, makespanMs),
    ...totals,
    stages,
    slowest,
    workers: rows.workers.map((w) => ({ ...w })),
    cost: cost.job,
    generatedAt: now,
  };
}

/** The cache counts a finished stage stored with its outcome (a stage run's `summary`). */
export const cacheOf = (summary: unknown): { cache?: CacheCounts } => {
  const cache = (summary as { cache?: CacheCounts } | null | undefined)?.cache;
  return cache ? { cache } : {};
};

const slowPart = (s: SlowPartRow): SlowPart => ({ stageId: s.stageId, part: s.part, workerId: s.workerId, runTimeMs: s.runTimeMs, attempt: s.attempt, status: s.status });
