import type { Pool } from 'pg';
import type { Logger } from '../common/logger';
import { parseDuration } from '../pipeline/units';
import { compactFinishedJobs } from '../store/compaction';

/** How often the sweep looks for finished jobs to compact, in ms. */
export const COMPACT_SWEEP_INTERVAL_MS = 60_000;
/** Jobs compacted per sweep at most, so one sweep never holds the store for long. */
const JOBS_PER_SWEEP = 20;

/** BATCHGRID_COMPACT_AFTER as ms, or undefined for `off`. */
export function compactAfterMs(setting: string): number | undefined {
  if (setting === 'off') return undefined;
  try {
    return parseDuration(setting);
  } catch (err) {
    throw new Error(`BATCHGRID_COMPACT_AFTER: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The compaction policy of the store: every minute, compacts the jobs that finished more than
 * `afterMs` ago (store/compaction.ts). Several orchestrators may sweep at once: compaction locks
 * the job row and does each job once. Failures are logged and retried at the next sweep.
 * Returns a stop function (safe to call twice) that waits for a sweep in progress.
 */
export function startCompactionSweep(db: Pool, afterMs: number, log: Pick<Logger, 'info' | 'warn'>, intervalMs = COMPACT_SWEEP_INTERVAL_MS): () => Promise<void> {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    try {
      for (const r of await compactFinishedJobs(db, { olderThanMs: afterMs, limit: JOBS_PER_SWEEP })) {
        if (r.compacted) log.info({ jobId: r.jobId, partStages: r.partStages, rowsDeleted: r.rowsDeleted, rowsKept: r.rowsKept }, 'job compacted');
      }
    } catch (err) {
      log.warn({ err }, 'compaction sweep failed; trying again at the next one');
    }
  };
  const timer = setInterval(() => {
    running ??= sweep().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
