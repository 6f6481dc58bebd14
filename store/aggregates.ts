import type { Queryable } from './db';
import type { StageBusyRow } from './cost';
import type { StageProgress } from './progress';
import type { PartStatsRow, SlowPartRow, WorkerStatsRow } from './reports';

/**
 * What a compacted job's reports read instead of its deleted task_runs rows (job_aggregates,
 * written once by store/compaction.ts). Every figure was computed by the same query that reads
 * live rows, so a report is the same before and after compaction.
 */

/** The part counts of one stage, without what stage_runs itself holds (status, task, mode, total). */
export type StageProgressCounts = Omit<StageProgress, 'status' | 'task' | 'mode' | 'partsTotal'>;

export interface JobAggregates {
  /** task_runs rows the job had before compaction (one per part of each stage run). */
  partStages: number;
  progress: StageProgressCounts[];
  partStats: PartStatsRow[];
  workerStats: WorkerStatsRow[];
  /** The slowest COMPACT_SLOWEST_KEPT finished parts of each stage, as slowestParts orders them. */
  slowest: SlowPartRow[];
  stageBusy: StageBusyRow[];
}

/** Slowest parts kept per stage by compaction: a report of a compacted job lists at most this many. */
export const COMPACT_SLOWEST_KEPT = 100;

const date = (v: string | null): Date | null => (v === null ? null : new Date(v));

/** The aggregates of a compacted job; undefined while the job has its rows (not compacted, or unknown). */
export async function jobAggregates(db: Queryable, jobId: string): Promise<JobAggregates | undefined> {
  const r = await db.query(`SELECT part_stages, progress, part_stats, worker_stats, slowest, stage_busy FROM job_aggregates WHERE job_id = $1`, [jobId]);
  const x = r.rows[0];
  if (!x) return undefined;
  return {
    partStages: Number(x.part_stages),
    progress: (x.progress as Record<string, unknown>[]).map((p) => ({
      ...(p as unknown as StageProgressCounts),
      firstStartedAt: date(p.firstStartedAt as string | null),
      lastFinishedAt: date(p.lastFinishedAt as string | null),
    })),
    partStats: x.part_stats,
    workerStats: x.worker_stats,
    slowest: x.slowest,
    stageBusy: x.stage_busy,
  };
}

/**
 * `live()` read from task_runs, unless the job is compacted: then `compacted(aggregates)`. The live
 * read goes first, so a compaction committing in between is seen by the check that follows and
 * the complete aggregates are returned, never rows half gone.
 */
export async function liveOrCompacted<T>(db: Queryable, jobId: string, live: () => Promise<T>, compacted: (a: JobAggregates) => T): Promise<T> {
  const result = await live();
  const aggregates = await jobAggregates(db, jobId);
  return aggregates ? compacted(aggregates) : result;
}
