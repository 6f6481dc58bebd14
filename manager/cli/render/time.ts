import { parseDuration, UnitParseError } from '../../../pipeline/units';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Thrown when a time argument cannot be read; the message says what is accepted. */
export class TimeArgumentError extends Error {
  constructor(readonly input: string, message: string) {
    super(message);
    this.name = 'TimeArgumentError';
  }
}

/** `--start-at`: an ISO time (`2026-01-31T14:00:00Z`; no zone means local time) or `+DURATION` from `now` (`+90s`, `+5m`, `+1h30m`). */
export function parseStartAt(text: string, now: Date = new Date()): Date {
  const input = text.trim();
  const accepted = 'use an ISO time like 2026-01-31T14:00:00Z, or +DURATION from now like +90s, +5m, +1h30m';
  if (input.startsWith('+')) {
    try {
      return new Date(now.getTime() + parseDuration(input.slice(1)));
    } catch (err) {
      if (err instanceof UnitParseError) throw new TimeArgumentError(text, `invalid start time ${JSON.stringify(text)}: ${accepted}`);
      throw err;
    }
  }
  const ms = ISO_DATE.test(input) ? Date.parse(input) : NaN;
  if (Number.isNaN(ms)) throw new TimeArgumentError(text, `invalid start time ${JSON.stringify(text)}: ${accepted}`);
  return new Date(ms);
}

/** `--since`/`--until`: an ISO time (no zone means local time) or `-DURATION` before `now` (`-24h`, `-7d`, `-1h30m`). */
export function parsePastTime(option: string, text: string, now: Date = new Date()): Date {
  const input = text.trim();
  const invalid = () => new TimeArgumentError(text, `invalid ${option} ${JSON.stringify(text)}: use an ISO time like 2026-01-31T14:00:00Z, or -DURATION before now like -24h, -7d`);
  if (input.startsWith('-')) {
    try {
      return new Date(now.getTime() - parseDuration(input.slice(1)));
    } catch (err) {
      if (err instanceof UnitParseError) throw invalid();
      throw err;
    }
  }
  const ms = ISO_DATE.test(input) ? Date.parse(input) : NaN;
  if (Number.isNaN(ms)) throw invalid();
  return new Date(ms);
}
