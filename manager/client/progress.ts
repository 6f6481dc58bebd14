import { isTerminal, type JobStatus, type StageMode, type StageStatus } from '../../common/status';
import type { StageProgress } from '../../store/progress';
import type { StageRun } from '../../store/stage-runs';

/** One stage's progress as `progress()` reports it: counts from Postgres, rates derived from them. */
export interface StageProgressView {
  stageId: string;
  task: string;
  /** How the stage gets its parts; undefined until it is planned. */
  mode?: StageMode;
  /** `pending` until the stage starts planning. */
  status: StageStatus;
  /** Known once planned (a stream stage: once its upstream is done); null before. */
  partsTotal: number | null;
  /** Sent and not completed yet: task_runs status `queued`, counted as in flight (PART_COUNTS in common/status.ts). */
  inFlight: number;
  /** Of those in flight, parts a worker has started; the others are queued (waiting for a free worker). */
  running: number;
  /** In flight and not started yet: waiting in the fleet's queue. */
  queued: number;
  /** Failed attempts waiting for their retry. */
  retryWaiting: number;
  succeeded: number;
  failed: number;
  /** Parts that needed more than one attempt. */
  retried: number;
  /** succeeded + failed. */
  done: number;
  bytesIn: number;
  bytesOut: number;
  /** Run time of the stage's parts so far (finished − started, each part's stored attempt), ms: what its fleet's price applies to. */
  busyMs: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Since the stage started, up to its end (or now), in ms. */
  elapsedMs: number;
  /** Parts done per second over the elapsed time; null before any part is done. */
  throughput: number | null;
  /** Time left at that rate, in ms: 0 once the stage is over, null when the total or the rate is unknown. */
  etaMs: number | null;
}

/** A job's progress: its status and every stage of its pipeline, in definition order. */
export interface JobProgressView {
  jobId: string;
  pipeline: string;
  status: JobStatus;
  createdAt: Date;
  startAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  stages: StageProgressView[];
}

/** Builds one stage's view from its counts and run (either may be missing before the stage starts) at time `now` (epoch ms). */
export function stageView(
  stage: { id: string; task: string },
  counts: StageProgress | undefined,
  run: Pick<StageRun, 'startedAt' | 'finishedAt' | 'status' | 'partsTotal' | 'task' | 'mode'> | undefined,
  now: number,
): StageProgressView {
  const startedAt = run?.startedAt ?? null;
  const finishedAt = run?.finishedAt ?? null;
  const status = run?.status ?? counts?.status ?? 'pending';
  const succeeded = counts?.succeeded ?? 0;
  const failed = counts?.failed ?? 0;
  const done = succeeded + failed;
  const partsTotal = run?.partsTotal ?? counts?.partsTotal ?? null;
  const elapsedMs = startedAt ? Math.max(0, (finishedAt?.getTime() ?? now) - startedAt.getTime()) : 0;
  const throughput = done > 0 && elapsedMs > 0 ? done / (elapsedMs / 1000) : null;
  let etaMs: number | null = null;
  if (isTerminal(status)) etaMs = 0;
  else if (partsTotal !== null && throughput !== null) etaMs = Math.round((Math.max(0, partsTotal - done) / throughput) * 1000);
  return {
    stageId: stage.id,
    task: run?.task ?? counts?.task ?? stage.task,
    mode: run?.mode ?? counts?.mode,
    status,
    partsTotal,
    inFlight: counts?.inFlight ?? 0,
    running: counts?.running ?? 0,
    queued: (counts?.inFlight ?? 0) - (counts?.running ?? 0),
    retryWaiting: counts?.retryWaiting ?? 0,
    succeeded,
    failed,
    retried: counts?.retried ?? 0,
    done,
    bytesIn: counts?.bytesIn ?? 0,
    bytesOut: counts?.bytesOut ?? 0,
    busyMs: counts?.busyMs ?? 0,
    startedAt,
    finishedAt,
    elapsedMs,
    throughput,
    etaMs,
  };
}
