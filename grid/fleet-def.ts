import { z } from 'zod';
import { didYouMean, formatPath, type PathSegments, type RawProblem } from '../pipeline/problems';
import { parseSource, type SourceFormat } from '../pipeline/source';
import { custom, duration, issueMessage, wholeNumber } from '../pipeline/fields';
import { formatDuration } from '../pipeline/units';
import { FleetValidationError } from './errors';
import type { FleetCompileResult, FleetDef, FleetProblem, ProviderDef } from './types';

/**
 * The fleet definition language (`kind: Fleet`), built like the pipeline one: a strict zod
 * schema, units converted, every problem reported with its path (and line, from text). Pure.
 */

/** Fleet names: they name SQS queues (with a prefix) and worker options, which allow 40 characters. */
export const FLEET_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const FLEET_NAME_MAX = 40;

/** Ranges and product defaults, in compiled units (ms, counts). */
export const FLEET_LIMITS = {
  size: { min: 0, max: 10_000 },
  max: { default: 10 },
  targetBacklogPerWorker: { min: 1, max: 100_000, default: 4 },
  concurrency: { min: 1, max: 1000, default: 4 },
  periodMs: { min: 1_000, max: 600_000, default: 15_000 },
  scaleInCooldownMs: { min: 0, max: 86_400_000, default: 120_000 },
  idleTimeoutMs: { min: 0, max: 7 * 86_400_000, default: 600_000 },
  // An ASG lifecycle hook waits at most 2 hours.
  shutdownGraceMs: { min: 0, max: 7_200_000, default: 30_000 },
  workerLostAfterMs: { min: 5_000, max: 86_400_000, default: 60_000 },
  pricePerWorkerHour: { min: 0, max: 1_000_000 },
  targetWorkPerWorkerMs: { min: 1_000, max: 7 * 86_400_000 },
} as const;

const name = z.string().superRefine((value, ctx) => {
  if (value.length < 1 || value.length > FLEET_NAME_MAX || !FLEET_NAME_PATTERN.test(value)) {
    custom(ctx, `must be 1–${FLEET_NAME_MAX} lowercase letters, digits or dashes, starting with a letter (got ${JSON.stringify(value)})`);
  }
});

/** What one worker costs per hour up, in any currency (reports multiply worker-hours by it). */
const price = z.number().superRefine((value, ctx) => {
  const { min, max } = FLEET_LIMITS.pricePerWorkerHour;
  if (!Number.isFinite(value) || value < min || value > max) custom(ctx, `must be a price per worker-hour between ${min} and ${max} (got ${value})`);
});

const PROVIDER_TYPES = ['local', 'asg', 'static'] as const;

/** An Auto Scaling group name: 1–255 characters, no colon (AWS's own rule). */
const groupName = z.string().superRefine((value, ctx) => {
  if (value.length < 1 || value.length > 255 || value.includes(':')) custom(ctx, `must be an Auto Scaling group name: 1–255 characters without ':' (got ${JSON.stringify(value)})`);
});

export const ProviderSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('local'),
      concurrency: wholeNumber('parts', FLEET_LIMITS.concurrency).default(FLEET_LIMITS.concurrency.default),
      /** A compiled JavaScript module of task handlers, as `batchgrid fleet-worker --tasks` takes it. */
      tasks: z.string().min(1).optional(),
    }),
    z.strictObject({ type: z.literal('asg'), groupName, lifecycleHook: z.string().min(1).max(255).optional() }),
    z.strictObject({ type: z.literal('static'), size: wholeNumber('workers', FLEET_LIMITS.size) }),
  ],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const kinds = PROVIDER_TYPES.map((k) => `"${k}"`).join(', ');
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined ? `is required: one of ${kinds}` : `must be one of ${kinds} (got ${JSON.stringify(type)})`;
    },
  },
);

export const FleetSchema = z
  .strictObject({
    apiVersion: z.literal('batchgrid/v1'),
    kind: z.literal('Fleet'),
    name,
    description: z.string().optional(),
    provider: ProviderSchema,
    min: wholeNumber('workers', FLEET_LIMITS.size).optional(),
    max: wholeNumber('workers', FLEET_LIMITS.size).optional(),
    targetBacklogPerWorker: wholeNumber('messages', FLEET_LIMITS.targetBacklogPerWorker).default(FLEET_LIMITS.targetBacklogPerWorker.default),
    period: duration(FLEET_LIMITS.periodMs).prefault(formatDuration(FLEET_LIMITS.periodMs.default)),
    scaleInCooldown: duration(FLEET_LIMITS.scaleInCooldownMs).prefault(formatDuration(FLEET_LIMITS.scaleInCooldownMs.default)),
    idleTimeout: duration(FLEET_LIMITS.idleTimeoutMs).prefault(formatDuration(FLEET_LIMITS.idleTimeoutMs.default)),
    shutdownGrace: duration(FLEET_LIMITS.shutdownGraceMs).prefault(formatDuration(FLEET_LIMITS.shutdownGraceMs.default)),
    workerLostAfter: duration(FLEET_LIMITS.workerLostAfterMs).prefault(formatDuration(FLEET_LIMITS.workerLostAfterMs.default)),
    pricePerWorkerHour: price.optional(),
    /** Expected work (parts × their stage's mean run time) one worker should carry; scales by work where run times are known. */
    targetWorkPerWorker: duration(FLEET_LIMITS.targetWorkPerWorkerMs).optional(),
    /** The workers run on EC2 spot instances: they watch the interruption notices (`fleet-worker --spot`). Default: false. */
    spot: z.boolean().default(false),
  })
  .transform((raw): FleetDef => {
    const provider = raw.provider as ProviderDef;
    const min = provider.type === 'static' ? provider.size : (raw.min ?? 0);
    const max = provider.type === 'static' ? provider.size : (raw.max ?? Math.max(min, FLEET_LIMITS.max.default));
    return {
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      name: raw.name,
      ...(raw.description === undefined ? {} : { description: raw.description }),
      provider,
      min,
      max,
      targetBacklogPerWorker: raw.targetBacklogPerWorker,
      periodMs: raw.period,
      scaleInCooldownMs: raw.scaleInCooldown,
      idleTimeoutMs: raw.idleTimeout,
      shutdownGraceMs: raw.shutdownGrace,
      workerLostAfterMs: raw.workerLostAfter,
      ...(raw.pricePerWorkerHour === undefined ? {} : { pricePerWorkerHour: raw.pricePerWorkerHour }),
      ...(raw.targetWorkPerWorker === undefined ? {} : { targetWorkPerWorkerMs: raw.targetWorkPerWorker }),
      spot: raw.spot,
    };
  });

/**
 * Rules across fields, read leniently from the raw definition so they are reported together with
 * the shape's problems (zod skips refinements of an object that has any).
 */
function ruleProblems(raw: unknown): RawProblem[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const r = raw as Record<string, unknown>;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const provider = typeof r.provider === 'object' && r.provider !== null ? (r.provider as Record<string, unknown>) : {};
  const problems: RawProblem[] = [];
  if (provider.type === 'static') {
    const size = int(provider.size);
    if (size === undefined) return [];
    for (const key of ['min', 'max'] as const) {
      const v = int(r[key]);
      if (v !== undefined && v !== size) problems.push({ path: [key], message: `a static fleet has a fixed size: leave ${key} out or make it provider.size (${size}), got ${v}` });
    }
    return problems;
  }
  const min = int(r.min) ?? 0;
  const max = int(r.max);
  if (max !== undefined && max < min) problems.push({ path: ['max'], message: `must be at least min (${min}), got ${max}` });
  return problems;
}

const KNOWN_KEYS = [
  ...['apiVersion', 'kind', 'name', 'description', 'provider', 'min', 'max', 'targetBacklogPerWorker', 'targetWorkPerWorker'],
  ...['period', 'scaleInCooldown', 'idleTimeout', 'shutdownGrace', 'workerLostAfter', 'spot', 'type', 'concurrency', 'tasks', 'groupName', 'lifecycleHook', 'size'],
  'pricePerWorkerHour',
];

/** Hints for compiled keys written into a definition. */
const COMPILED_KEYS: Record<string, string> = {
  periodMs: ' (write "period" with a unit, e.g. period: 15s)',
  scaleInCooldownMs: ' (write "scaleInCooldown" with a unit, e.g. scaleInCooldown: 2m)',
  idleTimeoutMs: ' (write "idleTimeout" with a unit, e.g. idleTimeout: 10m)',
  shutdownGraceMs: ' (write "shutdownGrace" with a unit, e.g. shutdownGrace: 30s)',
  workerLostAfterMs: ' (write "workerLostAfter" with a unit, e.g. workerLostAfter: 1m)',
};


function finish(raw: unknown, lineOf?: (path: PathSegments) => number | undefined): FleetCompileResult {
  if (raw === null || raw === undefined) {
    return { ok: false, problems: [{ path: '', message: 'the definition is empty: expected a map with apiVersion, kind, name and provider', ...(lineOf ? { line: 1 } : {}) }] };
  }
  const result = FleetSchema.safeParse(raw, { error: issueMessage });
  const rules = ruleProblems(raw);
  if (result.success && rules.length === 0) return { ok: true, fleet: result.data };
  const raws: RawProblem[] = [];
  for (const issue of result.success ? [] : result.error.issues) {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) raws.push({ path: [...path, key], message: `unknown key "${key}"${COMPILED_KEYS[key] ?? didYouMean(key, KNOWN_KEYS)}` });
    } else {
      raws.push({ path, message: issue.message });
    }
  }
  raws.push(...rules);
  const problems: FleetProblem[] = raws.map((p) => {
    const line = lineOf?.(p.path);
    return { path: formatPath(p.path), message: p.message, ...(line === undefined ? {} : { line }) };
  });
  if (lineOf) problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ok: false, problems };
}

/** Compiles fleet definition text, YAML or JSON; never throws on bad input. */
export function compileFleet(text: string, format?: SourceFormat): FleetCompileResult {
  const source = parseSource(text, format);
  if (source.problems.length > 0) {
    return { ok: false, problems: source.problems.map((p) => ({ path: formatPath(p.path), message: p.message, ...(p.line === undefined ? {} : { line: p.line }) })) };
  }
  return finish(source.value, source.lineOf);
}

/** Compiles an already parsed definition (a JSON body, a test object); problems have paths, no lines. */
export function compileFleetObject(obj: unknown): FleetCompileResult {
  return finish(obj);
}

/** `compileFleet`, throwing FleetValidationError with every problem. */
export function loadFleet(text: string, format?: SourceFormat): FleetDef {
  const result = compileFleet(text, format);
  if (!result.ok) throw new FleetValidationError(result.problems);
  return result.fleet;
}
