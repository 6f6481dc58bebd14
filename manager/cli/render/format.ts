/**
 * Small pure formatters for terminal output: durations, rates, sizes, times, tables.
 * No I/O here, so every function is unit-tested (test/unit/cli-format.test.ts).
 */

/** A human duration, two units at most: `850ms`, `12.3s`, `3m05s`, `1h02m`, `2d04h`. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

/** Parts per second: `0.25/s`, `12.3/s`, `1,234/s`; `-` when unknown. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return '-';
  if (perSecond < 1) return `${perSecond.toFixed(2)}/s`;
  if (perSecond < 100) return `${perSecond.toFixed(1)}/s`;
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}

/** Bytes in binary units with one decimal: `512B`, `1.5KiB`, `20.0MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(1)}${units[unit]}`;
}

/** A timestamp for tables: `2026-01-31 14:05:09` (UTC, no zone: the column header says so); `-` when absent. */
export function formatTimestamp(date: Date | null | undefined): string {
  if (!date) return '-';
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

/** Left-aligned columns separated by two spaces; cells that look numeric are right-aligned. Trailing spaces trimmed. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d.,/-]+%?$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[], header: boolean) =>
    cells
      .map((c, i) => (numeric[i] && !header ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers, true), ...rows.map((r) => line(r, false))].join('\n');
}
