import { formatBytes, formatElapsed, formatRate } from '../cli/render/format';

/** How the console writes numbers, sizes, durations and times (times in the browser's own time zone, which is named). */

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** An ISO time in local time, e.g. `2026-12-02 01:02:03`; '—' for none. */
export function time(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** A local wall-clock time only. */
export function clockTime(ms: number): string {
  return clock.format(new Date(ms));
}

// The CLI's pure formatters, so the console and the terminal write durations, sizes and rates alike.

/** A duration in ms as the CLI writes it (`850ms`, `12.3s`, `3m05s`); '—' for none. */
export function duration(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : formatElapsed(ms);
}

/** Bytes in binary units (`1.5KiB`); '—' for none. */
export function bytes(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : formatBytes(n);
}

/** Parts per second (`12.3/s`); '—' when unknown. */
export function rate(perSecond: number | null | undefined): string {
  return perSecond === null || perSecond === undefined ? '—' : formatRate(perSecond);
}

/** A cost with two decimals (the fleet's currency), '—' when unpriced. */
export function money(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toFixed(v < 1 ? 4 : 2);
}

export const count = (n: number) => n.toLocaleString();
