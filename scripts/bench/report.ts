import type { Profile } from './profile';
import type { SkewResult } from './skew';
import type { StragglerResult } from './straggler';
import { formatRate, formatRatio, type Spread } from './stats';

/** One system's figures at one size. */
export interface SystemFigures {
  label: string;
  /** Parts per round: the size, or less for a capped peer (see `capped`). */
  parts: number;
  partsPerSecond: Spread;
  seconds: Spread;
  historyEvents?: number;
  workflowRuns?: number;
  bytesPerPartStage?: number;
  storeBytesPerPartStage?: { live: number; compacted: number };
  /** Highest peak over the rounds, per process, in MiB. */
  peakMiB: Record<string, number>;
  /** Where the last round's time went (engine only). */
  profile?: Profile;
}

export interface SizeReport {
  parts: number;
  rounds: number;
  /** By system id: engine, rawSqs, rawSqsPacked, temporalFanOut, bullmq. */
  systems: Record<string, SystemFigures>;
  /** The engine's parts/s over each peer's, paired round by round, by peer id. */
  ratios: Record<string, Spread>;
  skipped: { system: string; reason: string }[];
  /** Peers run at fewer parts than the size, so that a round stays within minutes. */
  capped: { system: string; parts: number; reason: string }[];
  /** Resident memory of the shared stack's servers during this size's rounds, in MiB. */
  sharedServicesPeakMiB: Record<string, number>;
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  settings: { workers: number; workerConcurrency: number; concurrency: number; fanoutWindow: number; rounds: number; sqsBackend: string; nodeOptions: string; heapMib: number | null };
  warmupParts: number;
  sizes: SizeReport[];
  /** The engine's memory at each larger size against the smallest (empty with one size). */
  memoryGrowth: MemoryGrowth[];
  skew?: SkewResult;
  stragglers?: StragglerResult;
  /** Wall-clock seconds of the whole benchmark. */
  seconds: number;
}

const mib = (peaks: Record<string, number>) =>
  Object.entries(peaks)
    .map(([proc, m]) => `${proc} ${m}`)
    .join(', ');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** The engine's peak memory at one size against the smallest size of the run (the "flat in N" check). */
export interface MemoryGrowth {
  parts: number;
  baseParts: number;
  orchestratorMiB: number;
  /** Change against the smallest size, in per cent. */
  orchestratorPct: number;
  /** The larger of the fleet workers' peaks. */
  fleetWorkerMiB: number;
  fleetWorkerPct: number;
}

export function engineMemoryGrowth(sizes: SizeReport[]): MemoryGrowth[] {
  const withEngine = sizes.filter((s) => s.systems.engine);
  if (withEngine.length < 2) return [];
  const orchestrator = (s: SizeReport) => s.systems.engine.peakMiB.orchestrator;
  const worker = (s: SizeReport) => Math.max(...Object.entries(s.systems.engine.peakMiB).flatMap(([p, m]) => (p.startsWith('fleet-worker') ? [m] : [])));
  const pct = (a: number, b: number) => Math.round(((a - b) / b) * 100);
  const base = withEngine[0];
  return withEngine.slice(1).map((s) => ({
    parts: s.parts,
    baseParts: base.parts,
    orchestratorMiB: orchestrator(s),
    orchestratorPct: pct(orchestrator(s), orchestrator(base)),
    fleetWorkerMiB: worker(s),
    fleetWorkerPct: pct(worker(s), worker(base)),
  }));
}

/**
 * Where the engine's last round went, per part-stage (the benchmark's pipeline has two stages): CPU
 * time of each process and of the orchestrator's Postgres sessions, calls by operation, row writes.
 */
function renderProfile(p: Profile, partStages: number): string[] {
  const per = (x: number) => (x / partStages).toFixed(x / partStages < 0.1 ? 3 : 2);
  const cpu = Object.entries(p.cpuMs).map(([proc, ms]) => `${proc} ${per(ms)}`);
  const lines = [`where the engine's time went, per part-stage (last round): CPU ms ${cpu.join(', ')}; the machine was ${p.machineBusyPct} % busy`];
  const memory: string[] = [];
  for (const [proc, calls] of Object.entries(p.calls)) {
    const list: string[] = [];
    const peaks: string[] = [];
    for (const [op, n] of Object.entries(calls)) {
      // memory.<field>MiB: a peak the process wrote with its counts (common/call-counts), not a count.
      if (op.startsWith('memory.')) peaks.push(`${op.slice('memory.'.length, -'MiB'.length)} ${n}`);
      else if (n / partStages >= 0.001) list.push(`${op} ${per(n)}`);
    }
    if (list.length > 0) lines.push(`  calls of ${proc}: ${list.join(', ')}`);
    if (peaks.length > 0) memory.push(`${proc} ${peaks.join(', ')}`);
  }
  if (memory.length > 0) lines.push(`  peak MiB as each process saw it (process.memoryUsage; heap is the main V8 heap only): ${memory.join('; ')}`);
  const stages = Object.entries(p.timeline.stages).map(([id, t]) => `${id} first sent ${t.firstSentMs}, first finished ${t.firstFinishedMs}, last finished ${t.lastFinishedMs}`);
  lines.push(`  timeline, ms after submit: ${stages.join('; ')}; result ${p.timeline.endMs}`);
  lines.push(`  Postgres row writes: ${per(p.rows.inserts)} inserts, ${per(p.rows.updates)} updates (${per(p.rows.hotUpdates)} HOT), ${per(p.rows.deletes)} deletes`);
  return lines;
}

const signed = (pct: number) => `${pct >= 0 ? '+' : ''}${pct} %`;

/** The benchmark's human-readable output: one table per size, then memory growth and the skewed job. */
export function renderText(r: BenchReport): string {
  const out: string[] = [
    `batchgrid benchmark, ${r.date} — ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
    `${r.settings.workers} worker processes × ${r.settings.workerConcurrency} slots for every system; window ${r.settings.concurrency} (Temporal fan-out ${r.settings.fanoutWindow}); SQS ${r.settings.sqsBackend}; warm-up ${r.warmupParts.toLocaleString('en-US')} parts; ${r.settings.rounds} interleaved rounds; median (lowest–highest)`,
    `heap of every process it starts: ${r.settings.heapMib ? `old space capped at ${r.settings.heapMib} MiB (--heap-mib)` : "Node's default"}`,
  ];
  for (const s of r.sizes) {
    const rows = [['system', 'parts/s', 'engine ratio', 'history events', 'peak MiB per process']];
    for (const [id, f] of Object.entries(s.systems)) {
      const events = f.historyEvents === undefined ? '–' : f.workflowRuns ? `${f.historyEvents.toLocaleString('en-US')} in ${f.workflowRuns} runs` : String(f.historyEvents);
      rows.push([f.label, formatRate(f.partsPerSecond), s.ratios[id] ? formatRatio(s.ratios[id]) : '–', events, mib(f.peakMiB)]);
    }
    out.push('', `N = ${s.parts.toLocaleString('en-US')} parts`, table(rows));
    const bytes = s.systems.engine?.bytesPerPartStage;
    const store = s.systems.engine?.storeBytesPerPartStage;
    if (bytes !== undefined) out.push(`Postgres: ${bytes} bytes per part-stage on disk (task_rows: table, indexes, TOAST)`);
    if (store) out.push(`Postgres, the store's count: ${store.live} bytes per part-stage live, ${store.compacted} compacted; target at most 200`);
    const profile = s.systems.engine?.profile;
    if (profile) out.push(...renderProfile(profile, s.parts * 2));
    for (const k of [...s.skipped, ...s.capped]) out.push(`${k.system}: ${k.reason}`);
    out.push(`shared services during these rounds (resident peak MiB): ${mib(s.sharedServicesPeakMiB) || 'none found'}`);
  }
  out.push('');
  for (const g of r.memoryGrowth) {
    out.push(
      `engine memory at ${g.parts.toLocaleString('en-US')} against ${g.baseParts.toLocaleString('en-US')} parts: orchestrator ${g.orchestratorMiB} MiB (${signed(g.orchestratorPct)}), fleet worker ${g.fleetWorkerMiB} MiB (${signed(g.fleetWorkerPct)}); target within 10 %`,
    );
  }
  if (r.skew) {
    const k = r.skew;
    out.push(
      `stream against barrier, ${k.parts.toLocaleString('en-US')} parts × 2 stages, run times Pareto(min ${k.distribution.minMs} ms, alpha ${k.distribution.alpha}, cap ${k.distribution.maxMs} ms):`,
      `  stream ${k.stream.median.toFixed(1)} s (${k.stream.min.toFixed(1)}–${k.stream.max.toFixed(1)}), barrier ${k.barrier.median.toFixed(1)} s (${k.barrier.min.toFixed(1)}–${k.barrier.max.toFixed(1)}), barrier / stream ${formatRatio(k.ratio)}; target at least 1.5×`,
      `  lower bounds from the run times alone (no overhead, unlimited slots): stream ${k.boundSeconds.stream.toFixed(1)} s, barrier ${k.boundSeconds.barrier.toFixed(1)} s`,
    );
  }
  if (r.stragglers) {
    const k = r.stragglers;
    const st = k.setup;
    out.push(
      `stragglers: ${st.parts} parts of ${st.partMs} ms on ${st.workers} workers × ${st.slots}, one ${st.slowdown}× slower; speculate after ${st.after}, slower than ${st.slowerThan}× the median:`,
      `  with backups ${k.withBackups.median.toFixed(1)} s (${k.withBackups.min.toFixed(1)}–${k.withBackups.max.toFixed(1)}), without ${k.without.median.toFixed(1)} s (${k.without.min.toFixed(1)}–${k.without.max.toFixed(1)}), without / with ${formatRatio(k.ratio)}; target at least 1.4×`,
    );
  }
  out.push(
    '',
    'parts/s counts each part once; the engine runs every part through two stages (two task passes and two completions per part), every peer through one.',
    `benchmark took ${r.seconds} s`,
  );
  return `${out.join('\n')}\n`;
}
