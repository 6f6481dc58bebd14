import { writeFileSync } from 'node:fs';

/**
 * Counts of the calls this process made to the services it uses — SQS and S3 operations by name,
 * Postgres statements — so a benchmark can say what one part costs in round trips
 * (scripts/bench/profile.ts). Counting is a map increment per call; nothing is sent anywhere.
 */
const counts = new Map<string, number>();

/** One call of `operation` on `service` (`sqs`, `s3`, `postgres`…), or `n` of something (the ms a phase took). */
export function countCall(service: string, operation: string, n = 1): void {
  const key = `${service}.${operation}`;
  counts.set(key, (counts.get(key) ?? 0) + n);
}

let keptForFile = false;

/**
 * True once the counts are to be written to a file (a benchmark reads them): counts that cost more
 * than a map increment (the bytes of every message sent) are taken only then.
 */
export function detailedCounts(): boolean {
  return keptForFile;
}

/** Runs `fn` and adds the ms it took to `service.operationMs` (the stage loop's phases, for the benchmark). */
export async function timed<T>(service: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    countCall(service, `${operation}Ms`, performance.now() - started);
  }
}

/** The counts so far, by `service.operation` (ms rounded to whole ms). */
export function callCounts(): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Math.round(v)]));
}

/**
 * With `file` set (the CLI passes BATCHGRID_CALL_COUNTS_FILE), writes the counts there as JSON when
 * the process exits, however it ends; a process that cannot write them says so on stderr.
 */
export function writeCallCountsOnExit(file: string | undefined): void {
  if (!file) return;
  keptForFile = true;
  const memory = trackMemoryPeaks();
  process.once('exit', () => {
    try {
      writeFileSync(file, `${JSON.stringify({ ...callCounts(), ...memory() })}\n`);
    } catch (err) {
      process.stderr.write(`could not write the call counts to ${file}: ${(err as Error).message}\n`);
    }
  });
}

/** How often the process's own memory is sampled while its counts are kept for a file. */
const MEMORY_SAMPLE_MS = 1000;

/**
 * Peaks of the process's own view of its memory (process.memoryUsage: resident set, the main V8
 * heap, memory outside it held by JS objects), in MiB as `memory.<field>MiB`: with the resident peak
 * a benchmark reads from /proc, they tell a growing heap from memory outside it.
 */
function trackMemoryPeaks(): () => Record<string, number> {
  const peaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[k] = Math.max(peaks[k], m[k]);
  };
  setInterval(sample, MEMORY_SAMPLE_MS).unref();
  return () => {
    sample();
    return Object.fromEntries(Object.entries(peaks).map(([k, v]) => [`memory.${k}MiB`, Math.round(v / 2 ** 20)]));
  };
}
