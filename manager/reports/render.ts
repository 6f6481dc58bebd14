import { formatBytes, formatElapsed, formatRate, formatTimestamp } from '../cli/render/format';
import type { JobReport, Percentiles, SlowPart } from './job-report';

/**
 * `batchgrid report` as text: a job header, then aligned tables (stages, timings, slowest parts,
 * workers). Pure: no I/O, no clock (spans were fixed when the report was made).
 */

/** A duration in ms: one decimal under 10 ms (`2.5ms`), else `formatElapsed`; `-` when unknown. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  return ms < 10 ? `${(Math.round(ms * 10) / 10).toFixed(1)}ms` : formatElapsed(ms);
}

/** Columns separated by two spaces, each left- or right-aligned (`right[i]`); trailing spaces trimmed. */
export function alignedTable(headers: string[], rows: string[][], right: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const pct = (p: Percentiles | null): [string, string, string] => [formatMs(p?.p50), formatMs(p?.p95), formatMs(p?.p99)];

function stagesTable(r: JobReport): string {
  return alignedTable(
    ['STAGE', 'TASK', 'STATUS', 'PARTS', 'SUCCEEDED', 'FAILED', 'RETRIED', 'WALL', 'THROUGHPUT', 'BYTES IN', 'BYTES OUT'],
    r.stages.map((s) => [
      s.stageId,
      s.task,
      s.status,
      s.partsTotal !== null && s.partsTotal !== s.parts ? `${s.parts}/${s.partsTotal}` : String(s.parts),
      String(s.succeeded),
      String(s.failed),
      String(s.retried),
      formatMs(s.wallMs),
      formatRate(s.throughput),
      formatBytes(s.bytesIn),
      formatBytes(s.bytesOut),
    ]),
    [false, false, false, true, true, true, true, true, true, true, true],
  );
}

function timingsTable(r: JobReport): string {
  const rows = r.stages.map((s) => [s.stageId, ...pct(s.queueWaitMs), ...pct(s.runTimeMs), formatMs(s.busyMs)]);
  rows.push(['(job)', ...pct(r.queueWaitMs), ...pct(r.runTimeMs), formatMs(r.busyMs)]);
  return alignedTable(['STAGE', 'WAIT P50', 'WAIT P95', 'WAIT P99', 'RUN P50', 'RUN P95', 'RUN P99', 'BUSY'], rows, [false, true, true, true, true, true, true, true]);
}

function slowestTable(parts: SlowPart[]): string {
  return alignedTable(
    ['STAGE', 'PART', 'WORKER', 'RUN TIME', 'ATTEMPT', 'STATUS'],
    parts.map((p) => [p.stageId, String(p.part), p.workerId ?? '-', formatMs(p.runTimeMs), String(p.attempt), p.status]),
    [false, true, false, true, true, false],
  );
}

function workersTable(r: JobReport): string {
  return alignedTable(
    ['WORKER', 'PARTS', 'SUCCEEDED', 'FAILED', 'BUSY', 'BYTES IN', 'BYTES OUT'],
    r.workers.map((w) => [w.workerId, String(w.parts), String(w.succeeded), String(w.failed), formatMs(w.busyMs), formatBytes(w.bytesIn), formatBytes(w.bytesOut)]),
    [false, true, true, true, true, true, true],
  );
}

/** The whole report as text, without a trailing newline. */
export function renderReport(r: JobReport): string {
  const running = r.finishedAt === null && r.startedAt !== null;
  const lines = [
    `job ${r.jobId} (${r.pipeline}): ${r.status}`,
    `  started ${formatTimestamp(r.startedAt)}, finished ${formatTimestamp(r.finishedAt)} (UTC); makespan ${formatMs(r.makespanMs)}${running ? ' so far' : ''}`,
    `  parts ${r.parts}: ${r.succeeded} succeeded, ${r.failed} failed, ${r.retried} retried; throughput ${formatRate(r.throughput)}; bytes in ${formatBytes(r.bytesIn)}, out ${formatBytes(r.bytesOut)}`,
    `  queue wait p50 ${formatMs(r.queueWaitMs?.p50)}, p95 ${formatMs(r.queueWaitMs?.p95)}, p99 ${formatMs(r.queueWaitMs?.p99)}; run time p50 ${formatMs(r.runTimeMs?.p50)}, p95 ${formatMs(r.runTimeMs?.p95)}, p99 ${formatMs(r.runTimeMs?.p99)}`,
    '',
    stagesTable(r),
    '',
    'timings of finished parts (wait: sent → received by a worker; run: handler start → end)',
    timingsTable(r),
  ];
  if (r.slowest.length > 0) lines.push('', `slowest ${r.slowest.length} part${r.slowest.length === 1 ? '' : 's'}`, slowestTable(r.slowest));
  lines.push('', r.workers.length > 0 ? `workers\n${workersTable(r)}` : 'workers: none yet');
  return lines.join('\n');
}
