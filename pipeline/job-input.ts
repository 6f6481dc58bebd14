import { z } from 'zod';
import { compilePipeline, compilePipelineObject } from './compile';
import { issueMessage } from './fields';
import { formatPath, type RawProblem } from './problems';
import { LIMITS, PipelineSchema } from './schema';
import { definitionProblems } from './limits';
import { ruleProblems } from './rules';
import type { CompileResult, PipelineDef, Problem } from './types';

/**
 * The input of the `batchJob` workflow as any Temporal program may send it (the TypeScript helper
 * `batchgrid/workflow`, another SDK, `temporal workflow start --input '…'`). It is checked in the
 * workflow's first activity, which fails the workflow at once with every problem listed; the JSON
 * Schema published as docs/batch-job-input.schema.json is generated from `BatchJobInputSchema`
 * (`npm run schema`), and a unit test keeps the two equal.
 */

/** Job ids: also queue names, S3 keys and workflow ids (common/ids.ts says the same). */
const JOB_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
const jobId = z.string().regex(JOB_ID, { error: 'must be 1–48 lowercase letters, digits or dashes, starting with a letter or digit' });

/**
 * Where the input is: a folder (`jobs/<id>/input/`, ending in `/`), one object's key, or `` for the
 * whole bucket, as `submit --input s3://…` resolves them.
 */
const inputPrefix = z.string().superRefine((value, ctx) => {
  if (value.startsWith('/') || value.split('/').some((s) => s === '..')) {
    ctx.addIssue({ code: 'custom', message: `must be an S3 key prefix (a folder ending in "/", e.g. "jobs/my-job/input/", or one object's key), without a leading "/" or ".." segments (got ${JSON.stringify(value)})` });
  }
});

const whole = (what: string, min: number, max: number) =>
  z.number().refine((n) => Number.isInteger(n) && n >= min && n <= max, { error: `must be a whole number${what ? ` of ${what}` : ''} between ${min} and ${max}` });

export const BatchJobOptionsSchema = z.strictObject({
  stageHeartbeatTimeoutMs: whole('ms', 1_000, 3_600_000).optional().describe('How long a stage activity may go without a heartbeat before Temporal retries it elsewhere, in ms. Default: 30000.'),
  partsPerMessage: whole('parts', 1, 10).optional().describe('Parts per task message. Default: from the concurrency (1–10).'),
  overdueSlackMs: whole('ms', 0, 86_400_000).optional().describe("How long past its timeout, counted from a worker's start, a part's completion may be missing before its attempt fails as timed out, in ms. Default: 120000."),
  queueAheadMs: whole('ms', 0, 3_600_000).optional().describe("How much work a fleet's input queue may hold ahead of its workers, in ms; the rest waits in the orchestrator, where priorities and fair share decide. Default: 3000."),
});

/**
 * A compiled `PipelineDef`, as batchgrid's own launcher sends it: its shape, the rules between
 * stages and the size limits are checked; its values are trusted as batchgrid compiled them.
 */
const CompiledPipelineSchema = z
  .looseObject({
    apiVersion: z.literal('batchgrid/v1'),
    kind: z.literal('Pipeline'),
    name: z.string(),
    fleet: z.string(),
    concurrency: z.number(),
    input: z.looseObject({ split: z.looseObject({ by: z.string() }) }),
    stages: z.array(z.looseObject({ id: z.string(), task: z.string(), needs: z.array(z.string()), timeoutMs: z.number(), retry: z.looseObject({}), tolerate: z.looseObject({}) })).min(1),
  })
  .describe('A compiled pipeline (durations in ms, sizes in bytes), as `batchgrid submit` sends it. Programs should send `definition` instead.');

export const BatchJobInputSchema = z
  .strictObject({
    jobId: jobId.optional().describe('The job id. Default: the workflow id without its `job-` prefix, made safe.'),
    definition: z
      .union([PipelineSchema, z.string()])
      .optional()
      .describe('The pipeline as written (docs/pipeline-format.md): a map, or its YAML or JSON text. Exactly one of `definition` and `pipeline`.'),
    pipeline: CompiledPipelineSchema.optional(),
    bucket: z.string().min(3).max(63).optional().describe("The S3 bucket of the input and outputs. Default: the orchestrator's BATCHGRID_BUCKET."),
    inputPrefix: inputPrefix.describe('S3 key prefix of the job input, e.g. `jobs/<id>/input/` (or one object\'s key); the root stages split what is under it.'),
    options: BatchJobOptionsSchema.optional(),
    retryOf: jobId.optional().describe('A finished job whose finally failed parts this job runs again, with what they feed downstream.'),
    priority: whole('', LIMITS.priority.min, LIMITS.priority.max).optional().describe("The job's weight in the fair share of its fleets (1–100), like `batchgrid submit --priority`. Default: the pipeline's `priority` (1 when it has none)."),
  })
  .describe('Input of the batchgrid `batchJob` workflow (task queue `batchgrid` by default).');

/** The input as a program writes it (the JSON Schema's type). */
export type BatchJobInputJson = z.input<typeof BatchJobInputSchema>;

/** What the workflow runs once its input has been checked. */
export interface AdmittedInput {
  jobId: string;
  pipeline: PipelineDef;
  bucket: string;
}

export type AdmitResult = { ok: true; input: AdmittedInput } | { ok: false; problems: Problem[] };

/** A compiled pipeline's rules between stages and size limits, once its shape passed (the shape's own problems are reported with the input's). */
function checkCompiled(value: unknown): CompileResult {
  if (!CompiledPipelineSchema.safeParse(value).success) return { ok: false, problems: [] };
  const raws = [...ruleProblems(value), ...definitionProblems(value)];
  return raws.length === 0 ? { ok: true, pipeline: value as PipelineDef } : { ok: false, problems: raws.map((p) => ({ path: formatPath(p.path), message: p.message })) };
}

function prefixed(problems: readonly Problem[], prefix: string): Problem[] {
  return problems.map((p) => ({ ...p, path: p.path === '' ? prefix : p.path.startsWith('[') ? `${prefix}${p.path}` : `${prefix}.${p.path}` }));
}

/**
 * Checks a `batchJob` input and compiles its pipeline: the job id (given, or from the workflow
 * id), the compiled pipeline and the bucket, or every problem by path (`definition.stages[0].task`).
 */
export function admitBatchJobInput(raw: unknown, context: { workflowId: string; defaultBucket: string; defaultJobId: string }): AdmitResult {
  const problems: Problem[] = [];
  const shape = BatchJobInputSchema.safeParse(raw, { error: issueMessage });
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      const path = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
      // The definition's own problems come from the compiler below, worded as `validate` words them.
      if (path[0] === 'definition') continue;
      const raws: RawProblem[] = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => ({ path: [...path, k], message: `unknown key "${k}"` })) : [{ path, message: issue.message }];
      for (const p of raws) problems.push({ path: formatPath(p.path), message: p.message });
    }
  }
  const input = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) problems.push({ path: '', message: 'must be a map with `definition` (or `pipeline`) and `inputPrefix`' });

  let pipeline: PipelineDef | undefined;
  if (input.definition !== undefined && input.pipeline !== undefined) {
    problems.push({ path: 'pipeline', message: 'give either `definition` (the pipeline as written) or `pipeline` (compiled), not both' });
  } else if (input.definition === undefined && input.pipeline === undefined) {
    problems.push({ path: 'definition', message: 'is required: the pipeline as written (a map, or its YAML or JSON text)' });
  } else {
    const compiled = typeof input.definition === 'string' ? compilePipeline(input.definition) : input.definition !== undefined ? compilePipelineObject(input.definition) : checkCompiled(input.pipeline);
    if (compiled.ok) pipeline = compiled.pipeline;
    else problems.push(...prefixed(compiled.problems, input.definition !== undefined ? 'definition' : 'pipeline'));
  }

  const jobIdValue = typeof input.jobId === 'string' ? input.jobId : context.defaultJobId;
  if (input.jobId === undefined && !JOB_ID.test(jobIdValue)) {
    problems.push({ path: 'jobId', message: `is required: the workflow id ${JSON.stringify(context.workflowId)} gives no valid job id` });
  }
  if (problems.length > 0 || !pipeline) return { ok: false, problems };
  // The start's priority wins over the pipeline's, as `submit --priority` does.
  const withPriority = typeof input.priority === 'number' ? { ...pipeline, priority: input.priority } : pipeline;
  return { ok: true, input: { jobId: jobIdValue, pipeline: withPriority, bucket: typeof input.bucket === 'string' ? input.bucket : context.defaultBucket } };
}

/** `3 problems: definition.name: is required; …`: the failure message of a refused input. */
export function formatInputProblems(problems: readonly Problem[]): string {
  const list = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`));
  return `the batchJob input is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list.join('; ')}`;
}

/** The JSON Schema of the `batchJob` input (what a program sends), as published in docs/batch-job-input.schema.json. */
export function batchJobInputJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(BatchJobInputSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'batchgrid batchJob workflow input',
  };
}
