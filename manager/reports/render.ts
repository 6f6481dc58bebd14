import { formatBytes, formatElapsed, formatRate, formatTimestamp } from '../cli/render/format';
import type { CacheCounts } from '../../store/part-cache';
import type { FleetCost, JobCost } from './cost';
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

/** Money in the price's currency, four decimals (`0.0150`); `no price` without one. */
export function formatCost(cost: number | null): string {
  return cost === null || !Number.isFinite(cost) ? 'no price' : cost.toFixed(4);
}

const fleetList = (fleets: string[]) => `fleet${fleets.length === 1 ? '' : 's'} ${fleets.join(', ')}`;

/** The header's cost line: the total and its worker time, the prices, fleets without one. */
function costLine(c: JobCost): string {
  if (c.cost === null) return `  cost: no price (${fleetList(c.unpriced)} ${c.unpriced.length === 1 ? 'has' : 'have'} no pricePerWorkerHour)`;
  const prices = c.fleets.filter((w) => w.pricePerWorkerHour !== null).map((w) => `${w.fleet} ${w.pricePerWorkerHour}`);
  const unpriced = c.unpriced.length > 0 ? `; not counted: ${fleetList(c.unpriced)} (no price)` : '';
  return `  cost ${formatCost(c.cost)}: busy ${formatMs(c.busyMs)} + idle share ${formatMs(c.idleShareMs)}; price per worker-hour: ${prices.join(', ')}${unpriced}`;
}

function costTables(r: JobReport): string {
  const stages = alignedTable(
    ['STAGE', 'FLEET', 'PRICE/H', 'BUSY', 'IDLE SHARE', 'COST'],
    r.stages.map((s) => [s.stageId, s.cost.fleet, s.cost.pricePerWorkerHour === null ? '-' : String(s.cost.pricePerWorkerHour), formatMs(s.cost.busyMs), formatMs(s.cost.idleShareMs), formatCost(s.cost.cost)]),
    [false, false, true, true, true, true],
  );
  const fleets = alignedTable(
    ['FLEET', 'WORKERS', 'WORKER TIME', 'BUSY (ALL JOBS)', 'IDLE'],
    r.cost.fleets.map((w) => [w.fleet, String(w.workers), formatMs(w.workerMs), formatMs(w.busyMs), formatMs(w.idleMs)]),
    [false, true, true, true, true],
  );
  return ['cost = (busy + idle share) × price per worker-hour; idle share: the fleet\'s idle time while the job ran, by busy time', stages, '', 'fleets while the job ran', fleets].join('\n');
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

/**
 * The "part cache" heading and table of the stages that have cache counts (finished with `cache: true`),
 * for `report` and `status`; undefined when none has.
 */
export function cacheTable(stages: { stageId: string; cache?: CacheCounts }[]): string | undefined {
  const cached = stages.filter((s) => s.cache);
  if (cached.length === 0) return undefined;
  return [
    'part cache (reused: identical task, handler version, params and input bytes as an earlier part)',
    alignedTable(['STAGE', 'REUSED', 'RAN', 'RUN TIME SAVED'], cached.map((s) => [s.stageId, String(s.cache!.hits), String(s.cache!.misses), formatMs(s.cache!.savedMs)]), [false, true, true, true]),
  ].join('\n');
}

/** The whole report as text, without a trailing newline. */
export function renderReport(r: JobReport): string {
  const running = r.finishedAt === null && r.startedAt !== null;
  const lines = [
    `job ${r.jobId} (${r.pipeline}): ${r.status}`,
    `  started ${formatTimestamp(r.startedAt)}, finished ${formatTimestamp(r.finishedAt)} (UTC); makespan ${formatMs(r.makespanMs)}${running ? ' so far' : ''}`,
    `  parts ${r.parts}: ${r.succeeded} succeeded, ${r.failed} failed, ${r.retried} retried; throughput ${formatRate(r.throughput)}; bytes in ${formatBytes(r.bytesIn)}, out ${formatBytes(r.bytesOut)}`,
    `  queue wait p50 ${formatMs(r.queueWaitMs?.p50)}, p95 ${formatMs(r.queueWaitMs?.p95)}, p99 ${formatMs(r.queueWaitMs?.p99)}; run time p50 ${formatMs(r.runTimeMs?.p50)}, p95 ${formatMs(r.runTimeMs?.p95)}, p99 ${formatMs(r.runTimeMs?.p99)}`,
    costLine(r.cost),
    '',
    stagesTable(r),
    '',
    'timings of finished parts (wait: sent → received by a worker; run: handler start → end)',
    timingsTable(r),
  ];
  if (r.cost.cost !== null) lines.push('', costTables(r));
  const cache = cacheTable(r.stages);
  if (cache) lines.push('', cache);
  if (r.slowest.length > 0) lines.push('', `slowest ${r.slowest.length} part${r.slowest.length === 1 ? '' : 's'}`, slowestTable(r.slowest));
  lines.push('', r.workers.length > 0 ? `workers\n${workersTable(r)}` : 'workers: none yet');
  return lines.join('\n');
}

/** `batchgrid report --fleet`: a fleet's worker time over a period and its cost, without a trailing newline. */
export function renderFleetCost(c: FleetCost): string {
  const cost =
    c.pricePerWorkerHour === null
      ? `  cost: no price (fleet ${c.fleet} has no pricePerWorkerHour)`
      : `  cost ${formatCost(c.cost)}: (busy + idle) × ${c.pricePerWorkerHour} per worker-hour`;
  return [
    `fleet ${c.fleet}: ${formatTimestamp(c.since)} → ${formatTimestamp(c.until)} (UTC)`,
    `  ${c.workers} worker${c.workers === 1 ? '' : 's'} up, worker time ${formatMs(c.workerMs)}: busy ${formatMs(c.busyMs)} (every job's parts), idle ${formatMs(c.idleMs)}`,
    cost,
  ].join('\n');
}
