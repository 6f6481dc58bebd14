import { z } from 'zod';
import type { PipelineDef, RetryPolicy, Speculation, SplitSpec, Tolerance } from './types';
import { didYouMean, type RawProblem } from './problems';
import { custom, duration, issueMessage, wholeNumber } from './fields';
import { formatDuration, formatSize, parseSize, UnitParseError } from './units';

/**
 * The zod schema of a pipeline definition as written (YAML or JSON). It checks the shape of every
 * field, refuses unknown keys at every depth, applies defaults and converts units, so its output
 * is a `PipelineDef` minus the rules that span stages (see `rules.ts`) and minus each root
 * stage's `split`, which `compile.ts` fills in. Use `shapeProblems()` for readable messages.
 */

/** Names of pipelines and fleets (max 63) and stage ids (max 32): used in S3 keys, queue names and search attributes. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const PIPELINE_NAME_MAX = 63;
export const STAGE_ID_MAX = 32;
/** Handler names, e.g. `claims.validate`. */
export const TASK_PATTERN = /^[A-Za-z0-9._-]+$/;
export const TASK_NAME_MAX = 128;

/** Ranges and defaults, in the compiled units (ms, bytes). */
export const LIMITS = {
  concurrency: { min: 1, max: 100_000, default: 100 },
  priority: { min: 1, max: 100, default: 1 },
  speculateAfterPercent: { min: 0, max: 100, default: 75 },
  speculateSlowerThan: { min: 1.5, max: 1000, default: 3 },
  timeoutMs: { min: 1_000, max: 86_400_000, default: 900_000 },
  attempts: { min: 1, max: 100, default: 3 },
  backoffMs: { min: 0, max: 86_400_000, default: 10_000 },
  maxBackoffMs: { min: 0, max: 86_400_000, default: 300_000 },
  linesPerPart: { min: 1, max: 10_000_000 },
  bytesPerPart: { min: 1_024, max: 5 * 2 ** 30 },
  /** Keeps a job's workflow history bounded (about 15 events per stage, far below Temporal's 51,200). */
  stages: { max: 200 },
} as const;
export const DEFAULT_FLEET = 'default';
export const DEFAULT_MANIFEST_KEY = 'manifest.jsonl';

function nameString(max: number) {
  return z.string().superRefine((value, ctx) => {
    if (value.length < 1 || value.length > max || !NAME_PATTERN.test(value)) {
      custom(ctx, `must be 1–${max} lowercase letters, digits or dashes, starting with a letter (got ${JSON.stringify(value)})`);
    }
  });
}

const taskName = z.string().superRefine((value, ctx) => {
  if (value.length < 1 || value.length > TASK_NAME_MAX || !TASK_PATTERN.test(value)) {
    custom(ctx, `must be 1–${TASK_NAME_MAX} letters, digits, dots, dashes or underscores, e.g. "claims.validate" (got ${JSON.stringify(value)})`);
  }
});

/** A size (`"64MiB"`, or a number of bytes) within a range, output in bytes. */
function size(range: { min: number; max: number }) {
  return z
    .union([z.string(), z.number()], { error: 'must be a size like "64MiB" or "10MB" (or a number of bytes)' })
    .transform((value, ctx) => {
      try {
        const bytes = parseSize(value);
        if (bytes < range.min || bytes > range.max) {
          custom(ctx, `must be between ${formatSize(range.min)} and ${formatSize(range.max)} (got ${formatSize(bytes)})`);
          return z.NEVER;
        }
        return bytes;
      } catch (err) {
        custom(ctx, err instanceof UnitParseError ? err.message : String(err));
        return z.NEVER;
      }
    });
}

const manifestKey = z.string().superRefine((key, ctx) => {
  if (key === '' || key.startsWith('/') || key.split('/').some((segment) => segment === '..' || segment === '')) {
    custom(ctx, `must be a relative key under the job's input prefix, without empty or ".." segments (got ${JSON.stringify(key)})`);
  }
});

const SPLIT_KINDS = ['object', 'lines', 'bytes', 'manifest'] as const;

export const SplitSchema = z.discriminatedUnion(
  'by',
  [
    z.strictObject({ by: z.literal('object') }),
    z.strictObject({ by: z.literal('lines'), size: wholeNumber('lines', LIMITS.linesPerPart) }),
    z.strictObject({ by: z.literal('bytes'), size: size(LIMITS.bytesPerPart) }),
    z.strictObject({ by: z.literal('manifest'), key: manifestKey.default(DEFAULT_MANIFEST_KEY) }),
  ],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const kinds = SPLIT_KINDS.map((kind) => `"${kind}"`).join(', ');
      const by = (issue.input as { by?: unknown } | undefined)?.by;
      return by === undefined ? `is required: one of ${kinds}` : `must be one of ${kinds} (got ${JSON.stringify(by)})`;
    },
  },
);

export const RetrySchema = z
  .strictObject({
    attempts: wholeNumber('attempts', LIMITS.attempts).default(LIMITS.attempts.default),
    backoff: duration(LIMITS.backoffMs).optional(),
    maxBackoff: duration(LIMITS.maxBackoffMs).optional(),
  })
  .transform((raw): RetryPolicy => {
    const backoffMs = raw.backoff ?? LIMITS.backoffMs.default;
    // An explicit backoff above the default cap raises the cap rather than being refused.
    return { attempts: raw.attempts, backoffMs, maxBackoffMs: raw.maxBackoff ?? Math.max(LIMITS.maxBackoffMs.default, backoffMs) };
  });

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/** `failedParts: 3` (a count) or `failedParts: "0.5%"` (of the stage's parts). */
export const FailedPartsSchema = z.union([z.number(), z.string()], { error: 'must be a count (whole number >= 0) or a percentage like "0.5%"' }).transform(
  (value, ctx): Tolerance => {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && value >= 0) return { failedParts: value };
      custom(ctx, `must be a count (whole number >= 0) or a percentage like "0.5%" (got ${value})`);
      return z.NEVER;
    }
    const match = PERCENT.exec(value.trim());
    const percent = match ? Number(match[1]) : NaN;
    if (!(percent >= 0 && percent <= 100)) {
      custom(ctx, `must be a count (whole number >= 0) or a percentage between 0% and 100% (got ${JSON.stringify(value)})`);
      return z.NEVER;
    }
    return { failedPercent: percent };
  },
);

export const ToleranceSchema = z
  .strictObject({ failedParts: FailedPartsSchema.optional() })
  .transform((raw): Tolerance => raw.failedParts ?? { failedParts: 0 });

/** Reports the first value inside `params` that JSON cannot carry (undefined, NaN, a function, a Date…). */
function checkJson(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) ctx.addIssue({ code: 'custom', path, message: `must be JSON: ${value} is not a finite number` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, [...path, i], ctx));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkJson(item, [...path, key], ctx);
    return;
  }
  const kind = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  ctx.addIssue({ code: 'custom', path, message: `must be JSON: a ${kind} cannot be sent to a worker` });
}

const params = z
  .unknown()
  .superRefine((value, ctx) => checkJson(value, [], ctx))
  .default(() => ({}));

/** `speculate: true`, or `{ after: "75%", slowerThan: 3 }`. */
const SpeculateSchema = z
  .union(
    [
      z.boolean(),
      z.strictObject({
        after: z.string().optional(),
        slowerThan: z.number().optional(),
      }),
    ],
    { error: 'must be true, false, or { after: "75%", slowerThan: 3 }' },
  )
  .transform((raw, ctx): Speculation | undefined => {
    if (raw === false) return undefined;
    const spec = raw === true ? {} : raw;
    const { speculateAfterPercent: after, speculateSlowerThan: slower } = LIMITS;
    const match = spec.after === undefined ? undefined : PERCENT.exec(spec.after.trim());
    const afterPercent = spec.after === undefined ? after.default : match ? Number(match[1]) : NaN;
    if (!(afterPercent >= after.min && afterPercent <= after.max)) custom(ctx, `after must be a percentage of the stage's parts finished, like "75%" (got ${JSON.stringify(spec.after)})`);
    const slowerThan = spec.slowerThan ?? slower.default;
    if (!(slowerThan >= slower.min && slowerThan <= slower.max)) custom(ctx, `slowerThan must be between ${slower.min} and ${slower.max} times the median run time (got ${slowerThan})`);
    return { afterPercent, slowerThan };
  });

export const StageSchema = z.strictObject({
  id: nameString(STAGE_ID_MAX),
  task: taskName,
  params,
  timeout: duration(LIMITS.timeoutMs).prefault(formatDuration(LIMITS.timeoutMs.default)),
  retry: RetrySchema.prefault({}),
  tolerate: ToleranceSchema.prefault({}),
  /** A list of stage ids; a single id may be written without the list. */
  needs: z
    .union([z.string(), z.array(z.string())], { error: 'must be a list of stage ids' })
    .optional()
    .transform((value) => (value === undefined ? [] : typeof value === 'string' ? [value] : value)),
  chain: z.enum(['barrier', 'stream']).default('barrier'),
  gather: z.boolean().default(false),
  split: SplitSchema.optional(),
  /** The fleet that runs this stage (default: the pipeline's). */
  fleet: nameString(PIPELINE_NAME_MAX).optional(),
  /** A cap of the stage's own on parts in flight, within the job's concurrency. */
  concurrency: wholeNumber('parts', LIMITS.concurrency).optional(),
  /** Backup attempts for stragglers near the end of the stage. */
  speculate: SpeculateSchema.optional(),
  /** Reuse identical parts of earlier jobs (the part cache). */
  cache: z.boolean().default(false),
});

export const PipelineSchema = z
  .strictObject({
    apiVersion: z.literal('batchgrid/v1'),
    kind: z.literal('Pipeline'),
    name: nameString(PIPELINE_NAME_MAX),
    description: z.string().optional(),
    fleet: nameString(PIPELINE_NAME_MAX).default(DEFAULT_FLEET),
    concurrency: wholeNumber('parts', LIMITS.concurrency).default(LIMITS.concurrency.default),
    priority: wholeNumber('weight', LIMITS.priority).default(LIMITS.priority.default),
    input: z.strictObject({ split: SplitSchema.default({ by: 'object' }) }).prefault({}),
    stages: z
      .array(StageSchema)
      .min(1, { error: 'must list at least one stage' })
      .max(LIMITS.stages.max, { error: `must list at most ${LIMITS.stages.max} stages` }),
  })
  .transform(
    (raw): PipelineDef => ({
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      name: raw.name,
      ...(raw.description === undefined ? {} : { description: raw.description }),
      fleet: raw.fleet,
      concurrency: raw.concurrency,
      priority: raw.priority,
      input: { split: raw.input.split as SplitSpec },
      stages: raw.stages.map((stage) => ({
        id: stage.id,
        task: stage.task,
        params: stage.params,
        timeoutMs: stage.timeout,
        retry: stage.retry,
        tolerate: stage.tolerate,
        needs: stage.needs,
        chain: stage.chain,
        gather: stage.gather,
        ...(stage.split === undefined ? {} : { split: stage.split as SplitSpec }),
        fleet: stage.fleet ?? raw.fleet,
        ...(stage.concurrency === undefined ? {} : { concurrency: stage.concurrency }),
        ...(stage.speculate === undefined ? {} : { speculate: stage.speculate }),
        ...(stage.cache ? { cache: true } : {}),
      })),
    }),
  );

/** Hints for keys of the compiled form (`PipelineDef`) written into a definition. */
const COMPILED_KEYS: Record<string, string> = {
  timeoutMs: ' (write "timeout" with a unit, e.g. timeout: 5m)',
  backoffMs: ' (write "backoff" with a unit, e.g. backoff: 10s)',
  maxBackoffMs: ' (write "maxBackoff" with a unit, e.g. maxBackoff: 5m)',
  failedPercent: ' (write a percentage as failedParts: "5%")',
};

/** Every key the format knows, for "did you mean" hints on unknown keys. */
const KNOWN_KEYS = [
  ...['apiVersion', 'kind', 'name', 'description', 'fleet', 'concurrency', 'priority', 'input', 'stages', 'split', 'by', 'size', 'key'],
  ...['id', 'task', 'params', 'timeout', 'retry', 'tolerate', 'needs', 'chain', 'gather', 'speculate', 'after', 'slowerThan', 'cache'],
  ...['attempts', 'backoff', 'maxBackoff', 'failedParts'],
];


/** Checks the shape of a raw definition: every problem, one per unknown key, with readable messages. */
export function shapeProblems(raw: unknown): { problems: RawProblem[]; pipeline?: PipelineDef } {
  const result = PipelineSchema.safeParse(raw, { error: issueMessage });
  if (result.success) return { problems: [], pipeline: result.data };
  const problems: RawProblem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: [...path, key], message: `unknown key "${key}"${COMPILED_KEYS[key] ?? didYouMean(key, KNOWN_KEYS)}` });
      }
    } else {
      problems.push({ path, message: issue.message });
    }
  }
  return { problems };
}
