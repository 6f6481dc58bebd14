/**
 * Durations and sizes as people write them in pipeline definitions (`30s`, `1h30m`, `64MiB`), and
 * back. Durations become milliseconds, sizes bytes. A plain number is already in those units
 * (ms / bytes), like the Temporal SDK's `number` durations. Pure: safe inside workflows.
 */

/** Thrown when a duration or size cannot be parsed; the message says what is accepted. */
export class UnitParseError extends Error {
  constructor(readonly input: unknown, message: string) {
    super(message);
    this.name = 'UnitParseError';
  }
}

const MS_PER = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** Units in descending order, each at most once: `1d`, `2h`, `1h30m`, `1m30s`, `1.5s`, `500ms`. */
const DURATION = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

const BYTES_PER: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)([a-z]+)$/i;

function describeInput(input: unknown): string {
  return typeof input === 'string' ? JSON.stringify(input) : String(input);
}

function plainNumber(input: number, unit: string): number {
  if (!Number.isSafeInteger(input) || input < 0) {
    throw new UnitParseError(input, `a plain number is a count of ${unit} and must be a whole number >= 0 (got ${input})`);
  }
  return input;
}

/** Parses `30s`, `5m`, `2h`, `1h30m`, `500ms`, `1d` (or a plain number of ms) into milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return plainNumber(input, 'milliseconds');
  const text = input.trim();
  const match = DURATION.exec(text);
  if (text === '' || !match) {
    throw new UnitParseError(
      input,
      `invalid duration ${describeInput(input)}: use numbers with units d, h, m, s, ms in that order, e.g. "30s", "5m", "1h30m", "500ms"`,
    );
  }
  const [, d, h, m, s, ms] = match;
  const total =
    Number(d ?? 0) * MS_PER.d + Number(h ?? 0) * MS_PER.h + Number(m ?? 0) * MS_PER.m + Number(s ?? 0) * MS_PER.s + Number(ms ?? 0);
  return Math.round(total);
}

/** Parses `64MiB`, `10MB`, `512KiB`, `1GiB`, `100B` (units case-insensitive; KiB = 1024, KB = 1000) or a plain number of bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') return plainNumber(input, 'bytes');
  const match = SIZE.exec(input.trim());
  const perUnit = match ? BYTES_PER[match[2]!.toLowerCase()] : undefined;
  if (!match || perUnit === undefined) {
    throw new UnitParseError(
      input,
      `invalid size ${describeInput(input)}: use a number with a unit B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. "64MiB"`,
    );
  }
  return Math.round(Number(match[1]) * perUnit);
}

/** Formats milliseconds the way `parseDuration` reads them: `1h30m`, `5m`, `1.5s` is `1s500ms`, 0 is `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const count = Math.floor(rest / MS_PER[unit]);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * MS_PER[unit];
  }
  return out;
}

/** Formats bytes exactly in the largest unit that divides them: `64MiB`, `10MB`, `1TB`, else `123B`. */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0B';
  for (const unit of ['TiB', 'TB', 'GiB', 'GB', 'MiB', 'MB', 'KiB', 'KB'] as const) {
    const per = BYTES_PER[unit.toLowerCase()]!;
    if (bytes % per === 0) return `${bytes / per}${unit}`;
  }
  return `${bytes}B`;
}
