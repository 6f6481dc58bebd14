import { z } from 'zod';
import { formatDuration, parseDuration, UnitParseError } from './units';

/**
 * Field schemas shared by batchgrid's definition languages (pipelines, and fleets in `grid/`):
 * each refuses a bad value with a sentence that says the allowed range.
 */

/** Adds a custom problem with this message. */
export function custom(ctx: z.RefinementCtx, message: string): void {
  ctx.addIssue({ code: 'custom', message });
}

/** A whole number of `what` within a range. */
export function wholeNumber(what: string, range: { min: number; max: number }) {
  return z.number().superRefine((value, ctx) => {
    if (!Number.isInteger(value) || value < range.min || value > range.max) {
      custom(ctx, `must be a whole number of ${what} between ${range.min} and ${range.max} (got ${value})`);
    }
  });
}

/** A duration (`"5m"`, or a number of ms) within a range, output in ms. */
export function duration(range: { min: number; max: number }) {
  return z
    .union([z.string(), z.number()], { error: 'must be a duration like "30s", "5m" or "1h30m" (or a number of milliseconds)' })
    .transform((value, ctx) => {
      try {
        const ms = parseDuration(value);
        if (ms < range.min || ms > range.max) {
          custom(ctx, `must be between ${formatDuration(range.min)} and ${formatDuration(range.max)} (got ${formatDuration(ms)})`);
          return z.NEVER;
        }
        return ms;
      } catch (err) {
        custom(ctx, err instanceof UnitParseError ? err.message : String(err));
        return z.NEVER;
      }
    });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = { object: 'a map', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };

/** Messages for the zod issues a schema does not word itself (`safeParse(raw, { error: issueMessage })`). */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    return `must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    const options = issue.values.map((v) => JSON.stringify(v));
    if (issue.input === undefined) return `is required: ${options.join(' or ')}`;
    const got = ` (got ${typeof issue.input === 'string' ? JSON.stringify(issue.input) : describeValue(issue.input)})`;
    return options.length === 1 ? `must be ${options[0]}${got}` : `must be one of ${options.join(', ')}${got}`;
  }
  return undefined;
}
