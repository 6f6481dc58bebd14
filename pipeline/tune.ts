import { z } from 'zod';
import { wholeNumber } from './fields';
import { FailedPartsSchema, LIMITS } from './schema';
import type { Tolerance } from './types';

/** A change to a running job (`batchgrid tune`): what is given replaces the job's setting. */
export interface JobTune {
  /** Its window: parts of the job in flight at once, across its stages. */
  concurrency?: number;
  /** Its weight in its fleets' fair share. */
  priority?: number;
  /** Finally failed parts each of its stages tolerates (replaces every stage's `tolerate`). */
  tolerate?: Tolerance;
}

const TuneSchema = z
  .strictObject({
    concurrency: wholeNumber('parts', LIMITS.concurrency).optional(),
    priority: wholeNumber('weight', LIMITS.priority).optional(),
    // A count, a numeric string ("3", from a command line) or a percentage ("0.5%").
    tolerate: z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v), FailedPartsSchema).optional(),
  })
  .refine((t) => t.concurrency !== undefined || t.priority !== undefined || t.tolerate !== undefined, { message: 'give at least one of concurrency, priority, tolerate' });

/** Checks a tune request (the CLI's, the API's, an update sent from any Temporal client); every problem is named. */
export function compileTune(input: unknown): { ok: true; tune: JobTune } | { ok: false; problems: string[] } {
  const r = TuneSchema.safeParse(input);
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)) };
  const t = r.data;
  return { ok: true, tune: { ...(t.concurrency === undefined ? {} : { concurrency: t.concurrency }), ...(t.priority === undefined ? {} : { priority: t.priority }), ...(t.tolerate === undefined ? {} : { tolerate: t.tolerate }) } };
}

/** "concurrency 12, priority 5, tolerate 3 failed parts": a tune in words. */
export function describeTune(t: JobTune): string {
  const tolerate = t.tolerate === undefined ? undefined : t.tolerate.failedPercent !== undefined ? `${t.tolerate.failedPercent}% failed parts` : `${t.tolerate.failedParts} failed parts`;
  return [t.concurrency !== undefined && `concurrency ${t.concurrency}`, t.priority !== undefined && `priority ${t.priority}`, tolerate !== undefined && `tolerate ${tolerate}`].filter(Boolean).join(', ');
}
