import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { JobSummary } from '../../activities/job-state';
import { Command, InvalidArgumentError } from 'commander';
import { config } from '../../common/config';
import { stagesPrefix } from '../../common/layout';
import { distPath, packageRoot } from '../../common/paths';
import { formatCents } from '../../examples/claims/claims';
import type { ClaimsSummary, ValidateResult } from '../../examples/claims/tasks';
import { BatchGridClient } from '../../manager/client';
import { clearPartCache } from '../../manager/client/database';
import { formatBytes, formatElapsed, formatTable } from '../../manager/cli/render/format';
import { generateClaims } from './generate-claims';
import { submitAndFollow } from './follow';
import { startLocalEngine, type LocalEngine } from './local-engine';
import { heading, indent, printReport, printStageTimings, say } from './print';

/**
 * `npm run demo` (after scripts/demo.sh has built, started the stack and migrated): runs the
 * claims example end to end on this machine and prints what it did. See docs/ui.md for the
 * Temporal UI side.
 */

interface DemoOptions {
  rows: number;
  workers: number;
  concurrency: number;
  seed: number;
  /** Run the job a second time over the same input, every stage with `cache: true`, and compare. */
  cache: boolean;
}

const count = (n: number) => n.toLocaleString('en-US');
/** 12345678 → `123,456.78`. */
const money = (cents: number) => formatCents(cents).replace(/\B(?=(\d{3})+(?!\d))(?=.*\.)/g, ',');

async function run(): Promise<void> {
  const opts = parseOptions();
  const demoStarted = Date.now();
  const cfg = config();
  const root = packageRoot();
  const inputDir = path.join(cfg.BATCHGRID_HOME, 'demo', 'claims');

  heading(`starting an orchestrator and ${opts.workers} fleet workers (${opts.concurrency} parts each at once)`);
  const engine = startLocalEngine({ fleets: [{ workers: opts.workers, concurrency: opts.concurrency, tasksModule: distPath('examples/claims/tasks.js') }], logDir: path.join(cfg.BATCHGRID_HOME, 'logs') });
  for (const p of engine.processes) say(`  ${p.name.padEnd(16)} pid ${p.child.pid}  log ${path.relative(root, p.logFile)}`);
  let client: BatchGridClient | undefined;
  try {
    heading(`generating ${count(opts.rows)} claims (seed ${opts.seed})`);
    const generated = await generateClaims({ dir: inputDir, rows: opts.rows, seed: opts.seed });
    const planted = Object.entries(generated.byDefect).map(([k, n]) => `${k} ${count(n)}`).join(', ');
    say(`  ${generated.files.length} CSV files, ${formatBytes(generated.bytes)} in ${path.relative(root, inputDir)}; ${count(generated.invalid)} lines with a planted defect (${planted})`);

    client = await BatchGridClient.connect();
    const pipelineFile = path.join(root, 'examples/claims/pipeline.yaml');
    const pipeline = opts.cache ? withCache(await readFile(pipelineFile, 'utf8')) : pipelineFile;
    // The first run must compute every part: entries from an earlier `--cache` demo are dropped.
    if (opts.cache) say(`  part cache of claims-monthly cleared: ${await clearPartCache({ pipeline: 'claims-monthly' })} entries`);
    const followed = await submitAndFollow(client, engine, pipeline, inputDir, opts.cache ? CACHED_LABEL : undefined);
    if (!followed) return;
    const { summary, uiUrl, submitted, ended } = followed;
    const { jobId } = followed;

    const results = await client.results(jobId);
    const entry = results.entries.find((e) => e.stage === 'summarize');
    const claims = entry?.result as ClaimsSummary | undefined;
    if (claims) printClaimsSummary(await validationTotals(client, jobId), claims);

    heading('results');
    const { bucket } = await client.get(jobId);
    say(`  results:       s3://${bucket}/${results.resultsKey}`);
    for (const o of entry?.outputs ?? []) say(`  summary:       s3://${bucket}/${o.key} (${formatBytes(o.bytes)})`);
    say(`  part outputs:  s3://${bucket}/${stagesPrefix(jobId)}{validate,price}/parts/<n>/{valid,rejected,priced}.csv`);
    say(`  download them: batchgrid results ${jobId} --download ./claims-results`);

    heading('performance');
    printStageTimings(summary);
    printReport(jobId);

    const jobSeconds = (summary.finishedAt - summary.startedAt) / 1000;
    const endToEnd = (ended - submitted) / 1000;
    heading('wall time');
    say(`  job (workflow start → end):   ${formatElapsed(jobSeconds * 1000)}, ${count(Math.round(opts.rows / jobSeconds))} rows/s`);
    say(`  submit → end (with upload):   ${formatElapsed(endToEnd * 1000)}, ${count(Math.round(opts.rows / endToEnd))} rows/s`);
    say(`  whole demo (after the build): ${formatElapsed(ended - demoStarted)}`);
    say(`  Temporal UI: ${uiUrl}`);
    if (opts.cache) await runAgainFromCache(client, engine, pipeline, inputDir, summary);
  } finally {
    await client?.close();
    heading('stopping the orchestrator and the fleet workers');
    await engine.stop();
    say('  stopped. The local stack (Temporal, ElasticMQ, the versitygw S3 server, moto, Postgres) is still running: `bin/batchgrid dev down` stops it.');
  }
}

const CACHED_LABEL = 'examples/claims/pipeline.yaml, with cache: true on every stage';

/** The claims pipeline with every stage's part cache on (`cache: true`), as definition text. */
function withCache(yaml: string): string {
  const def = parseYaml(yaml) as { stages: Record<string, unknown>[] };
  return stringifyYaml({ ...def, stages: def.stages.map((s) => ({ ...s, cache: true })) });
}

/**
 * The same job over the same input once more: every part is found in the part cache, so none is
 * sent to the fleet. Prints both makespans and their ratio (the "second run against the first").
 */
async function runAgainFromCache(client: BatchGridClient, engine: LocalEngine, pipeline: string, inputDir: string, first: JobSummary): Promise<void> {
  heading('the same job again, from the part cache');
  const again = await submitAndFollow(client, engine, pipeline, inputDir, CACHED_LABEL);
  if (!again) return;
  printReport(again.jobId);
  const makespan = (s: JobSummary) => s.finishedAt - s.startedAt;
  heading('part cache');
  say(`  first run:  ${formatElapsed(makespan(first))}`);
  say(`  second run: ${formatElapsed(makespan(again.summary))} (${(makespan(first) / Math.max(1, makespan(again.summary))).toFixed(1)}× faster)`);
}

/** The validate parts' results added up: each part returned its counts, kept in Postgres. */
async function validationTotals(client: BatchGridClient, jobId: string): Promise<ValidateResult> {
  const total: ValidateResult = { accepted: 0, rejected: 0, byReason: {} };
  for await (const { result } of client.partResults(jobId, 'validate')) {
    const r = result as ValidateResult;
    total.accepted += r.accepted;
    total.rejected += r.rejected;
    for (const [reason, n] of Object.entries(r.byReason) as [keyof ValidateResult['byReason'], number][]) total.byReason[reason] = (total.byReason[reason] ?? 0) + n;
  }
  return total;
}

function printClaimsSummary(v: ValidateResult, s: ClaimsSummary): void {
  heading('claims summary');
  const read = v.accepted + v.rejected;
  say(`  validate: ${count(read)} claims read, ${count(v.accepted)} accepted, ${count(v.rejected)} rejected (${((100 * v.rejected) / Math.max(1, read)).toFixed(2)}%)`);
  say();
  const reasons = Object.entries(v.byReason).sort((a, b) => b[1] - a[1]);
  say(indent(formatTable(['REJECTED BECAUSE', 'CLAIMS'], reasons.map(([r, n]) => [r, count(n)]))));
  say();
  say(`  summarize (summary.json): ${count(s.claims)} claims priced from ${s.files} priced.csv files`);
  const cats = Object.entries(s.byCategory).sort((a, b) => b[1].allowedCents - a[1].allowedCents);
  const row = (name: string, t: { claims: number; billedCents: number; allowedCents: number }) => [
    name,
    count(t.claims),
    money(t.billedCents),
    money(t.allowedCents),
    `${((100 * t.allowedCents) / Math.max(1, t.billedCents)).toFixed(1)}%`,
  ];
  say(indent(formatTable(['CATEGORY', 'CLAIMS', 'BILLED', 'ALLOWED', 'ALLOWED/BILLED'], [...cats.map(([c, t]) => row(c, t)), row('total', s)])));
}

function parseOptions(): DemoOptions {
  const whole = (min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}.`);
    return n;
  };
  return new Command('demo')
    .description('run the claims example end to end on the local stack')
    .option('--rows <n>', 'claims to generate', whole(1), 300_000)
    .option('--workers <n>', 'fleet worker processes', whole(1), 2)
    .option('--concurrency <n>', 'parts each worker runs at once', whole(1), 4)
    .option('--seed <n>', 'random seed of the generated claims', whole(0), 42)
    .option('--cache', 'run the job twice with the part cache on every stage, and compare the makespans', false)
    .parse(process.argv)
    .opts<DemoOptions>();
}

run().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
