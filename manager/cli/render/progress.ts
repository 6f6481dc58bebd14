import type { JobProgressView, StageProgressView } from '../../client/progress';
import { formatElapsed, formatRate, formatTable } from './format';

/**
 * What `watch` and `status` draw: progress bars for a terminal, one plain line per change
 * otherwise. Pure: the caller decides when to draw and where.
 */

const FULL = '█';
const EMPTY = '░';

/** A bar of `width` cells filled in proportion to done/total; an unknown total gives an empty bar. */
export function progressBar(done: number, total: number | null, width: number): string {
  if (width <= 0) return '';
  const fraction = total === null || total <= 0 ? 0 : Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  return FULL.repeat(filled) + EMPTY.repeat(width - filled);
}

/** `3/10` or `3/?` while the total is unknown. */
export const partsText = (s: Pick<StageProgressView, 'done' | 'partsTotal'>) => `${s.done}/${s.partsTotal ?? '?'}`;

/** `30%`, or `-` while the total is unknown. */
export function percentText(s: Pick<StageProgressView, 'done' | 'partsTotal'>): string {
  if (s.partsTotal === null || s.partsTotal === 0) return s.partsTotal === 0 ? '100%' : '-';
  return `${Math.floor((100 * Math.min(s.done, s.partsTotal)) / s.partsTotal)}%`;
}

/** Counts beyond done/total, only those that are not zero: `1 queued, 2 running, 1 failed, 3 retried`. */
export function countsText(s: StageProgressView): string {
  const words: string[] = [];
  if (s.queued) words.push(`${s.queued} queued`);
  if (s.running) words.push(`${s.running} running`);
  if (s.retryWaiting) words.push(`${s.retryWaiting} awaiting retry`);
  if (s.failed) words.push(`${s.failed} failed`);
  if (s.retried) words.push(`${s.retried} retried`);
  return words.join(', ');
}

/** The screen `watch` redraws in place: a header, then one bar line per stage, fitted to `columns`. */
export function renderProgress(view: JobProgressView, columns: number, now = Date.now()): string[] {
  const header = `job ${view.jobId} (${view.pipeline}): ${view.status}${jobElapsed(view, now)}`;
  const idWidth = Math.max(...view.stages.map((s) => s.stageId.length));
  const lines = view.stages.map((s) => {
    const head = `${s.stageId.padEnd(idWidth)}  ${s.status.padEnd(9)} `;
    const tail = ` ${partsText(s).padStart(11)} ${percentText(s).padStart(4)}  ${formatRate(s.throughput).padStart(8)}  eta ${eta(s).padEnd(6)}${countsText(s) ? `  ${countsText(s)}` : ''}`;
    const width = Math.max(10, Math.min(40, columns - head.length - tail.length));
    return `${head}${progressBar(s.done, s.partsTotal, width)}${tail}`.slice(0, Math.max(columns, 40));
  });
  return [header, ...lines];
}

/** One line for a stage, for logs and pipes: status and counts only, so it changes only when they do. */
export function progressLine(jobId: string, s: StageProgressView): string {
  const counts = countsText(s);
  return `${jobId} ${s.stageId}: ${s.status} ${partsText(s)} done${counts ? ` (${counts})` : ''}`;
}

/** The job's line for logs: printed when its status changes. */
export function jobLine(view: JobProgressView, now = Date.now()): string {
  return `${view.jobId}: ${view.status}${jobElapsed(view, now)}${view.error ? ` - ${view.error}` : ''}`;
}

/** The per-stage table of `status`. */
export function stageTable(view: JobProgressView): string {
  return formatTable(
    ['STAGE', 'TASK', 'STATUS', 'PARTS', 'DONE', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'RETRIED', 'RATE', 'ELAPSED', 'ETA'],
    view.stages.map((s) => [
      s.stageId,
      s.task,
      s.status,
      s.partsTotal === null ? '-' : String(s.partsTotal),
      percentText(s),
      String(s.queued),
      String(s.running),
      String(s.succeeded),
      String(s.failed),
      String(s.retried),
      formatRate(s.throughput),
      s.startedAt ? formatElapsed(s.elapsedMs) : '-',
      eta(s),
    ]),
  );
}

function eta(s: StageProgressView): string {
  if (s.etaMs === null) return '-';
  return s.etaMs === 0 ? '-' : formatElapsed(s.etaMs);
}

function jobElapsed(view: JobProgressView, now: number): string {
  if (!view.startedAt) return view.startAt && view.status === 'scheduled' ? ` (starts ${view.startAt.toISOString()})` : '';
  return ` after ${formatElapsed((view.finishedAt?.getTime() ?? now) - view.startedAt.getTime())}`;
}
