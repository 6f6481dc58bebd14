import { Command, InvalidArgumentError } from 'commander';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CLAIMS_HEADER, formatCents } from '../../examples/claims/claims';
import { CATEGORIES, type Category } from '../../examples/claims/pricing';

/**
 * Generates a synthetic month of insurance claims as CSV for the claims example: deterministic
 * for a seed, with a small share of invalid lines of several kinds. Files are streamed to disk,
 * never built in memory.
 *
 *   node dist/scripts/demo/generate-claims.js --out /tmp/claims [--rows 300000] [--files 4] [--seed 42]
 */

/** The defects the generator plants; each makes `claims.validate` reject the line with the same reason. */
export const DEFECTS = ['bad_date', 'negative_amount', 'unknown_category', 'missing_member', 'malformed'] as const;
export type Defect = (typeof DEFECTS)[number];

export interface ClaimsSpec {
  /** Data lines in all. Default: 300000. */
  rows?: number;
  /** Seed of the random sequence: the same spec gives the same bytes. Default: 42. */
  seed?: number;
  /** The month of service, `YYYY-MM`. Default: 2025-03. */
  month?: string;
  /** Share of lines with one defect, 0–1. Default: 0.025. */
  invalidShare?: number;
}

export interface GenerateOptions extends ClaimsSpec {
  /** Folder to write into; created if missing, and cleared of earlier `claims-*.csv` files. */
  dir: string;
  /** How many files the lines are spread over (each with the header). Default: 4. */
  files?: number;
}

export interface GeneratedLine {
  line: string;
  /** The defect planted in the line, if any. */
  defect?: Defect;
}

export interface GeneratedClaims {
  dir: string;
  /** File paths, in order. */
  files: string[];
  rows: number;
  /** Lines with a defect, and how many of each kind. */
  invalid: number;
  byDefect: Partial<Record<Defect, number>>;
  /** Bytes written, headers included. */
  bytes: number;
}

/** Category mix of a month of claims, in per-mille. */
const CATEGORY_WEIGHTS: [Category, number][] = [
  ['professional', 400],
  ['lab', 180],
  ['pharmacy', 150],
  ['imaging', 80],
  ['outpatient', 70],
  ['emergency', 50],
  ['dental', 50],
  ['inpatient', 20],
];
const PLACE_OF_SERVICE: Record<Category, string> = { professional: '11', inpatient: '21', outpatient: '22', emergency: '23', lab: '81', imaging: '22', pharmacy: '01', dental: '11' };
const DIAGNOSES = ['E11.9', 'I10', 'J06.9', 'M54.50', 'Z00.00', 'K21.9', 'F41.1', 'R51.9', 'N39.0', 'J45.909', 'E78.5', 'Z23', 'M25.561', 'R10.9', 'K02.9'];
const UNKNOWN_CATEGORIES = ['vision', 'chiropractic', 'durable_equipment', 'Professional', 'misc'];
const MEMBERS = 40_000;
const PROVIDERS = 2_500;

/** mulberry32: a small, fast, seedable PRNG; returns floats in [0, 1). */
export function randomSequence(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The claim lines of a spec, one at a time (no header). */
export function* claimLines(spec: ClaimsSpec = {}): Generator<GeneratedLine> {
  const { rows = 300_000, seed = 42, month = '2025-03', invalidShare = 0.025 } = spec;
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new RangeError(`month must be YYYY-MM (got ${JSON.stringify(month)})`);
  if (!(invalidShare >= 0 && invalidShare <= 1)) throw new RangeError(`invalidShare must be between 0 and 1 (got ${invalidShare})`);
  const [year, mon] = [Number(m[1]), Number(m[2])];
  const days = new Date(Date.UTC(year, mon, 0)).getUTCDate();
  const random = randomSequence(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');

  for (let i = 1; i <= rows; i++) {
    const category = weighted(CATEGORY_WEIGHTS, random());
    const procedure = pick(Object.keys(CATEGORIES[category].fees));
    const units = category === 'pharmacy' || category === 'lab' ? int(1, 4) : random() < 0.85 ? 1 : int(2, 3);
    const billed = Math.round(CATEGORIES[category].fees[procedure]! * units * (0.8 + 2.2 * random()));
    const f = [
      `CLM${year}${pad(mon, 2)}${pad(i, 7)}`,
      `M${pad(int(1, MEMBERS), 6)}`,
      `P${pad(int(1, PROVIDERS), 5)}`,
      `${year}-${pad(mon, 2)}-${pad(int(1, days), 2)}`,
      category,
      procedure,
      String(units),
      formatCents(billed),
      pick(DIAGNOSES),
      PLACE_OF_SERVICE[category],
    ];
    if (random() >= invalidShare) {
      yield { line: f.join(',') };
      continue;
    }
    const defect = pick(DEFECTS);
    switch (defect) {
      case 'bad_date':
        f[3] = pick([`${year}-${pad(mon, 2)}-${days + 1}`, `${year}-13-${pad(int(1, 28), 2)}`, `${pad(mon, 2)}/${pad(int(1, days), 2)}/${year}`, '']);
        break;
      case 'negative_amount':
        f[7] = `-${f[7]}`;
        break;
      case 'unknown_category':
        f[4] = pick(UNKNOWN_CATEGORIES);
        break;
      case 'missing_member':
        f[1] = '';
        break;
      case 'malformed': {
        const kind = int(0, 3);
        if (kind === 0) f.splice(7); // a truncated record
        else if (kind === 1) f.push('EXTRA');
        else if (kind === 2) f.splice(0, f.length, `#### corrupted record ${i} ####`);
        else f.splice(0, f.length, f.join(';'));
        break;
      }
    }
    yield { line: f.join(','), defect };
  }
}

/** Writes the claims of a spec as `files` CSV files under `dir` (streamed) and returns what it wrote. */
export async function generateClaims(options: GenerateOptions): Promise<GeneratedClaims> {
  const files = options.files ?? 4;
  const rows = options.rows ?? 300_000;
  if (!Number.isInteger(files) || files < 1 || files > 1000) throw new RangeError(`files must be a whole number from 1 to 1000 (got ${files})`);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a whole number ≥ 0 (got ${rows})`);
  await mkdir(options.dir, { recursive: true });
  // Files of an earlier run would be read as input too; anything else in the folder is left alone.
  for (const name of await readdir(options.dir)) if (/^claims-.*\.csv$/.test(name)) await rm(path.join(options.dir, name));
  const month = options.month ?? '2025-03';
  const lines = claimLines({ ...options, rows, month });
  const result: GeneratedClaims = { dir: options.dir, files: [], rows, invalid: 0, byDefect: {}, bytes: 0 };
  for (let k = 0; k < files; k++) {
    const count = Math.floor(((k + 1) * rows) / files) - Math.floor((k * rows) / files);
    const file = path.join(options.dir, `claims-${month}-${pad2(k + 1)}.csv`);
    await pipeline(Readable.from(chunks(lines, count, result)), createWriteStream(file));
    result.files.push(file);
  }
  return result;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The header and the next `count` lines, in chunks of about 64 KiB; counts what it yields into `into`. */
function* chunks(lines: Generator<GeneratedLine>, count: number, into: GeneratedClaims): Generator<string> {
  let chunk = `${CLAIMS_HEADER}\n`;
  for (let n = 0; n < count; n++) {
    const next = lines.next();
    if (next.done) break;
    const { line, defect } = next.value;
    if (defect) {
      into.invalid += 1;
      into.byDefect[defect] = (into.byDefect[defect] ?? 0) + 1;
    }
    chunk += `${line}\n`;
    if (chunk.length >= 65_536) {
      into.bytes += Buffer.byteLength(chunk);
      yield chunk;
      chunk = '';
    }
  }
  into.bytes += Buffer.byteLength(chunk);
  if (chunk !== '') yield chunk;
}

/** Picks by cumulative per-mille weights. */
function weighted<T>(items: [T, number][], r: number): T {
  const total = items.reduce((n, [, w]) => n + w, 0);
  let x = r * total;
  for (const [item, w] of items) {
    if (x < w) return item;
    x -= w;
  }
  return items[items.length - 1]![0];
}

const wholeNumber = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}.`);
  return n;
};

async function run(): Promise<void> {
  const program = new Command('generate-claims')
    .description('write a synthetic month of insurance claims as CSV files')
    .requiredOption('--out <dir>', 'folder to write into (earlier claims-*.csv files in it are removed)')
    .option('--rows <n>', 'claim lines in all', wholeNumber(0), 300_000)
    .option('--files <n>', 'files to spread them over', wholeNumber(1), 4)
    .option('--seed <n>', 'random seed', wholeNumber(0), 42)
    .option('--month <YYYY-MM>', 'month of service', '2025-03')
    .option('--invalid-share <x>', 'share of lines with a defect, 0–1', Number, 0.025)
    .parse(process.argv);
  const o = program.opts<{ out: string; rows: number; files: number; seed: number; month: string; invalidShare: number }>();
  const started = Date.now();
  const r = await generateClaims({ dir: o.out, rows: o.rows, files: o.files, seed: o.seed, month: o.month, invalidShare: o.invalidShare });
  const kinds = Object.entries(r.byDefect).map(([k, n]) => `${k} ${n}`).join(', ');
  process.stdout.write(`wrote ${r.rows} claims (${r.invalid} invalid: ${kinds}) in ${r.files.length} files, ${r.bytes} bytes, to ${r.dir} in ${Date.now() - started} ms\n`);
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`generate-claims: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
