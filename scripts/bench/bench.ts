import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createAwsClients, destroyAwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { distPath } from '../../common/paths';
import { engineSystem, type EngineSetup } from './engine';
import { trackAll } from './memory';
import { bullmq } from './peers/bullmq';
import { rawSqs } from './peers/raw-sqs';
import { fanOutWorkflowsPath, temporalFanOut } from './peers/temporal-fanout';
import { note, setChildNodeFlags, stopChildren } from './processes';
import { sharedServicePids } from './profile';
import { engineMemoryGrowth, renderText, type BenchReport, type SizeReport, type SystemFigures } from './report';
import { streamAgainstBarrier } from './skew';
import { stragglers } from './straggler';
import { pairedRatios, spreadOf } from './stats';
import type { BenchSystem, RunResult } from './system';

/**
 * `npm run bench`: the engine and its peers — the raw SQS loop (one part per message and ten), a
 * hand-rolled Temporal fan-out and BullMQ — on the same machine and services, in one run: a warm-up
 * pass, then every system once per round, interleaved, for `--rounds` rounds; median parts/s and
 * the engine's median ratio to each peer with their spread, history events, peak memory of every
 * process and Postgres bytes per part-stage. Then stream against barrier on a skewed job, and a
 * job with one slow worker with and without backup attempts for stragglers.
 * Progress goes to stderr; stdout carries the table, or with `--json` one JSON document.
 */
interface Options {
  parts: number[];
  rounds: number;
  workers: number;
  workerConcurrency: number;
  concurrency: number;
  peerMaxParts: number;
  warmupParts: number;
  skewParts: number;
  fanoutParts: number;
  fanoutWindow?: number;
  skip: string[];
  redisPort: number;
  heapMib?: number;
  cpuProf?: string;
  json: boolean;
}

const SYSTEM_IDS = ['engine', 'rawSqs', 'rawSqsPacked', 'temporalFanOut', 'bullmq', 'skew', 'stragglers'];

const positive = (what: string) => (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number of at least 1, got "${v}".`);
  return n;
};

function parseOptions(): Options {
  const program = new Command('bench')
    .option('--parts <list>', 'comma-separated sizes N (parts per job)', '20000')
    .option('--rounds <n>', 'measured rounds per size, every system once per round, interleaved', positive('--rounds'), 3)
    .option('--workers <n>', 'worker processes of every system (fleet workers, raw consumers, Temporal and BullMQ workers)', positive('--workers'), 2)
    .option('--worker-concurrency <n>', 'slots per worker process (parts each runs at once)', positive('--worker-concurrency'), 64)
    .option('--concurrency <n>', 'the window: parts in flight (engine and Temporal fan-out)', positive('--concurrency'), 2000)
    .option('--peer-max-parts <n>', 'the Temporal fan-out and BullMQ are skipped above this size', positive('--peer-max-parts'), 100_000)
    .option('--warmup-parts <n>', 'parts of the warm-up pass (each system once, not measured)', positive('--warmup-parts'), 2000)
    .option('--fanout-parts <n>', 'the Temporal fan-out runs at most this many parts per round (15–35 parts/s here: 20,000 would take 10–20 minutes a round)', positive('--fanout-parts'), 1000)
    .option('--fanout-window <n>', "the Temporal fan-out's window (default: --concurrency, at most 2,000 pending activities)", positive('--fanout-window'))
    .option('--skew-parts <n>', 'parts of the skewed stream-against-barrier job', positive('--skew-parts'), 2000)
    .option('--skip <list>', `comma-separated systems to leave out: ${SYSTEM_IDS.join(', ')}`, '')
    .option('--redis-port <port>', "port of the benchmark's own Redis on 127.0.0.1 (BullMQ)", positive('--redis-port'), 16379)
    .option('--heap-mib <n>', 'old-space cap (--max-old-space-size) of every process the benchmark starts, engine and peers alike; default: Node\'s own', positive('--heap-mib'))
    .option('--cpu-prof <dir>', 'write a V8 CPU profile of every process the benchmark starts into <dir> (open in Chrome DevTools)')
    .option('--json', 'print one JSON document on stdout instead of the table')
    .parse(process.argv);
  const raw = program.opts();
  const parts = String(raw.parts).split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  const bad = String(raw.parts).split(',').filter((_, i) => !Number.isInteger(parts[i]) || parts[i] < 1);
  if (bad.length > 0) program.error(`error: --parts must list whole numbers of at least 1, got "${bad.join(', ')}".`);
  const skip = String(raw.skip).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = skip.filter((s) => !SYSTEM_IDS.includes(s));
  if (unknown.length > 0) program.error(`error: --skip: unknown system ${unknown.join(', ')}; choose from ${SYSTEM_IDS.join(', ')}.`);
  return { ...(raw as Omit<Options, 'parts' | 'skip'>), parts, skip, json: Boolean(raw.json) };
}

/** The engine's workflow bundle and the fan-out's, built once so that no measured run pays for bundling. */
async function writeBundles(dir: string): Promise<{ engine: string; fanOut: string }> {
  const engine = path.join(dir, 'engine-workflows.js');
  // webpack's report of the bundle is noise here: shown only when bundling fails.
  const r = spawnSync(process.execPath, [distPath('manager/cli/main.js'), 'orchestrator', '--write-bundle', engine], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`orchestrator --write-bundle exited with ${r.status}: ${r.stderr}`);
  const fanOut = path.join(dir, 'fanout-workflows.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: fanOutWorkflowsPath(), logger: new DefaultLogger('WARN') });
  fs.writeFileSync(fanOut, code);
  return { engine, fanOut };
}

function machine() {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
}

async function measureSize(systems: BenchSystem[], n: number, o: Options): Promise<SizeReport> {
  const active = systems.filter((s) => n <= (s.maxParts ?? Infinity));
  const skipped = systems.filter((s) => !active.includes(s)).map((s) => ({ system: s.id, reason: `skipped above ${s.maxParts!.toLocaleString('en-US')} parts (--peer-max-parts)` }));
  const partsOf = (s: BenchSystem) => Math.min(n, s.capParts ?? Infinity);
  const capped = active.filter((s) => partsOf(s) < n).map((s) => ({ system: s.id, parts: partsOf(s), reason: `run at ${partsOf(s).toLocaleString('en-US')} parts, not ${n.toLocaleString('en-US')} (--fanout-parts)` }));
  const shared = trackAll(await sharedServicePids(), { lifetimePeak: false });
  const results = new Map<string, RunResult[]>(active.map((s) => [s.id, []]));
  try {
    for (let round = 1; round <= o.rounds; round += 1) {
      for (const s of active) {
        const r = await s.run(partsOf(s));
        results.get(s.id)!.push(r);
        note(`N=${n} round ${round}/${o.rounds}: ${s.label} ${r.seconds.toFixed(1)} s for ${partsOf(s)} parts, ${Math.round(partsOf(s) / r.seconds)} parts/s`);
      }
    }
  } finally {
    shared.stop();
  }
  const figures: Record<string, SystemFigures> = {};
  for (const s of active) {
    const runs = results.get(s.id)!;
    const peakMiB: Record<string, number> = {};
    for (const r of runs) for (const [proc, mib] of Object.entries(r.memoryMiB)) peakMiB[proc] = Math.max(peakMiB[proc] ?? 0, mib);
    const last = runs[runs.length - 1];
    figures[s.id] = {
      label: s.label,
      parts: partsOf(s),
      partsPerSecond: spreadOf(runs.map((r) => partsOf(s) / r.seconds)),
      seconds: spreadOf(runs.map((r) => r.seconds)),
      historyEvents: last.historyEvents,
      workflowRuns: last.workflowRuns,
      bytesPerPartStage: last.bytesPerPartStage,
      storeBytesPerPartStage: last.storeBytesPerPartStage,
      profile: last.profile,
      peakMiB,
    };
  }
  const engine = figures.engine?.partsPerSecond.rounds;
  const ratios = Object.fromEntries(
    Object.entries(figures).flatMap(([id, f]) => {
      const r = engine && id !== 'engine' ? pairedRatios(engine, f.partsPerSecond.rounds) : undefined;
      return r ? [[id, r]] : [];
    }),
  );
  return { parts: n, rounds: o.rounds, systems: figures, ratios, skipped, capped, sharedServicesPeakMiB: shared.peaks() };
}

async function run(): Promise<void> {
  const o = parseOptions();
  setChildNodeFlags([...(o.heapMib ? [`--max-old-space-size=${o.heapMib}`] : []), ...(o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(o.cpuProf)}`] : [])]);
  const began = Date.now();
  const cfg = config();
  const aws = createAwsClients();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchgrid-bench-'));
  const bundles = await writeBundles(dir);
  const setup: EngineSetup = { workers: o.workers, workerConcurrency: o.workerConcurrency, concurrency: o.concurrency, bundlePath: bundles.engine };
  const all: BenchSystem[] = [
    engineSystem(aws, setup),
    rawSqs(aws, o.workers, 1),
    rawSqs(aws, o.workers, 10),
    temporalFanOut(
      { workers: o.workers, slots: o.workerConcurrency, window: o.fanoutWindow ?? o.concurrency, partsPerRun: 10_000, bundlePath: bundles.fanOut },
      { maxParts: o.peerMaxParts, capParts: o.fanoutParts },
    ),
    bullmq({ workers: o.workers, slots: o.workerConcurrency, port: o.redisPort }, o.peerMaxParts),
  ];
  const systems = all.filter((s) => !o.skip.includes(s.id));
  note(`SQS at ${cfg.endpoints.sqs} (${cfg.BATCHGRID_SQS_BACKEND}); ${o.workers} workers × ${o.workerConcurrency} per system; window ${o.concurrency}; ${o.rounds} rounds`);
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: { workers: o.workers, workerConcurrency: o.workerConcurrency, concurrency: o.concurrency, fanoutWindow: Math.min(o.fanoutWindow ?? o.concurrency, 2000), rounds: o.rounds, sqsBackend: cfg.BATCHGRID_SQS_BACKEND, nodeOptions: process.env.NODE_OPTIONS ?? '', heapMib: o.heapMib ?? null },
    warmupParts: o.warmupParts,
    sizes: [],
    memoryGrowth: [],
    seconds: 0,
  };
  try {
    // The SQS server's JVM, Temporal's caches and Postgres start cold: one unmeasured pass of each
    // system (a capped peer at a fifth of its cap: it warms the same caches in a fraction of the time).
    for (const s of systems) {
      const r = await s.run(Math.min(o.warmupParts, Math.ceil((s.capParts ?? Infinity) / 5)));
      note(`warm-up: ${s.label} ${r.seconds.toFixed(1)} s`);
    }
    for (const n of o.parts) report.sizes.push(await measureSize(systems, n, o));
    if (!o.skip.includes('skew')) report.skew = await streamAgainstBarrier(aws, setup, o.skewParts, o.rounds);
    if (!o.skip.includes('stragglers')) report.stragglers = await stragglers(aws, setup, o.rounds);
  } finally {
    await Promise.all(systems.map((s) => s.close?.()));
    destroyAwsClients(aws);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report.memoryGrowth = engineMemoryGrowth(report.sizes);
  report.seconds = Math.round((Date.now() - began) / 1000);
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
}

// Interrupted (Ctrl-C, a kill): the orchestrators, fleet workers and peers it started end with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}; stopping the processes it started\n`);
    void stopChildren().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

run().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
