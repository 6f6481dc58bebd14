import { z } from 'zod';
import { JOB_ID_PATTERN } from '../../common/ids';
import { FINAL_PART_STATUSES, isJobStatus, JOB_STATUSES, PART_STATUSES, STAGE_MODES, STAGE_STATUSES } from '../../common/status';
import { FLEET_NAME_MAX, FLEET_NAME_PATTERN } from '../../grid/fleet-def';
import { SCHEDULE_ID_PATTERN } from '../client/schedules';
import { LIMITS } from '../../pipeline/schema';

/**
 * The API's request and response shapes as zod schemas: requests are parsed with them, and the
 * OpenAPI document (GET /v1/openapi.json) is generated from them. Times travel as ISO 8601 strings.
 */

const JobStatus = z.enum(JOB_STATUSES);
const StageStatus = z.enum(STAGE_STATUSES);
const StageMode = z.enum(STAGE_MODES);

// ─── requests ──────────────────────────────────────────────────────────────────────────────────

export const JobId = z.string().regex(JOB_ID_PATTERN, 'must be 1–48 lowercase letters, digits or dashes, starting with a letter or digit').meta({ examples: ['20260131140509-1a2b3c4d'] });
export const ScheduleId = z.string().regex(SCHEDULE_ID_PATTERN, 'must be 1–20 lowercase letters, digits or dashes, starting with a letter').meta({ examples: ['nightly'] });

export const Pipeline = z
  .union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: (issue) => (issue.input === undefined ? 'required' : 'must be a pipeline definition: an object, or its YAML/JSON text'),
  })
  .meta({ description: 'The pipeline definition (see docs/pipeline-format.md): an object as written in YAML/JSON, or the YAML/JSON text itself.' });

const S3Input = z
  .string()
  .regex(/^s3:\/\/[^/]+/, 'must be an s3://<bucket>/<prefix> URL in the configured bucket (upload data first with PUT /v1/jobs/{id}/input/{path})')
  .meta({ examples: ['s3://batchgrid/jobs/20260131140509-1a2b3c4d/input/'] });

export const JobParams = z.strictObject({ id: JobId });
export const ScheduleParams = z.strictObject({ id: ScheduleId });
export const UploadParams = z.strictObject({
  id: JobId,
  '*': z.string().meta({ description: 'Path of the file under the job input prefix, e.g. `2024/a.csv`.' }),
});

export const SubmitBody = z.strictObject({
  pipeline: Pipeline,
  input: S3Input,
  jobId: JobId.optional().meta({ description: 'Job id; submitting the same id again returns that job (200) and starts nothing. Default: a new id.' }),
  startAt: z.iso.datetime({ offset: true }).optional().meta({ description: 'Start later (ISO 8601 time). Default: now.' }),
  priority: z
    .number()
    .int()
    .min(LIMITS.priority.min)
    .max(LIMITS.priority.max)
    .optional()
    .meta({ description: `The job's weight in its fleets' fair share, ${LIMITS.priority.min}–${LIMITS.priority.max}. Default: the pipeline's \`priority\` (1 when it has none).` }),
});

export const ListQuery = z.strictObject({
  pipeline: z.string().min(1).optional(),
  status: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.split(',').every(isJobStatus), `must be one or more of ${JOB_STATUSES.join(', ')}, separated by commas`)
    .meta({ description: `Only jobs in these statuses, comma-separated (${JOB_STATUSES.join(', ')}).` }),
  fleet: z.string().min(1).optional().meta({ description: 'Only jobs on this fleet.' }),
  q: z.string().regex(/^[a-z0-9-]{1,48}$/, 'must be the start of a job id: 1–48 lowercase letters, digits or dashes').optional().meta({ description: 'Only jobs whose id starts with this text.' }),
  progress: z.enum(['true', 'false']).optional().meta({ description: '`true`: each job carries `progress`, its per-stage counts (as GET /v1/jobs/{id}/progress has them). Default: false.' }),
  limit: z.coerce.number().int().min(1).max(1000).optional().meta({ description: 'Page size, 1–1000. Default: 50.' }),
  cursor: z.string().min(1).optional().meta({ description: '`nextCursor` of the previous page.' }),
});

const isPartStatus = (x: string) => (PART_STATUSES as readonly string[]).includes(x);

export const PartsQuery = z.strictObject({
  stage: z.string().min(1).optional().meta({ description: 'Only the parts of this stage.' }),
  status: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.split(',').every(isPartStatus), `must be one or more of ${PART_STATUSES.join(', ')}, separated by commas`)
    .meta({ description: `Only parts in these statuses, comma-separated (${PART_STATUSES.join(', ')}).` }),
  limit: z.coerce.number().int().min(1).max(1000).optional().meta({ description: 'Page size, 1–1000. Default: 50.' }),
  cursor: z.string().min(1).optional().meta({ description: '`nextCursor` of the previous page.' }),
});

export const ChartsQuery = z.strictObject({
  buckets: z.coerce.number().int().min(2).max(500).optional().meta({ description: 'Number of time buckets and histogram bins, 2–500. Default: 60.' }),
});

export const SessionBody = z.strictObject({ token: z.string().min(1).meta({ description: 'The API token (BATCHGRID_API_TOKEN).' }) });

export const ValidateBody = z.strictObject({ pipeline: Pipeline });

export const FleetQuery = z.strictObject({
  decisions: z.coerce.number().int().min(0).max(1000).optional().meta({ description: 'How many of the latest scaling decisions to include, 0–1000. Default: 50.' }),
});

export const ResultsQuery = z.strictObject({
  expiresInSeconds: z.coerce.number().int().min(1).max(7 * 24 * 3600).optional().meta({ description: 'Lifetime of the presigned URLs, seconds. Default: 3600.' }),
});

export const ReportQuery = z.strictObject({
  slowest: z.coerce.number().int().min(0).max(1000).optional().meta({ description: 'How many of the slowest parts to list, per stage and for the job. Default: 10.' }),
});

export const FleetParams = z.strictObject({
  fleet: z.string().max(FLEET_NAME_MAX).regex(FLEET_NAME_PATTERN, `must be 1–${FLEET_NAME_MAX} lowercase letters, digits or dashes, starting with a letter`).meta({ examples: ['default'] }),
});

export const FleetCostQuery = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).meta({ description: 'Start of the period (ISO 8601 time).' }),
    until: z.iso.datetime({ offset: true }).optional().meta({ description: 'End of the period (ISO 8601 time), after `since`. Default: now.' }),
  })
  .refine((q) => q.until === undefined || Date.parse(q.until) > Date.parse(q.since), { path: ['until'], message: 'must be after since' });

export const RetryBody = z
  .strictObject({ jobId: JobId.optional().meta({ description: 'Id of the retry job (idempotent like submit). Default: a new id.' }) })
  .optional();

export const CreateScheduleBody = z.strictObject({
  scheduleId: ScheduleId,
  cron: z.string().min(1).meta({ description: 'Cron expression, 5 fields', examples: ['0 3 * * *'] }),
  timezone: z.string().min(1).optional().meta({ description: 'IANA time zone of the cron expression. Default: UTC.' }),
  pipeline: Pipeline,
  input: S3Input,
});

// ─── responses ─────────────────────────────────────────────────────────────────────────────────

const Time = z.iso.datetime();
const MaybeTime = Time.nullable();

export const ErrorBody = z.object({ error: z.string() });
export const ProblemsBody = z
  .object({
    error: z.enum(['invalid request', 'invalid pipeline']),
    problems: z.array(z.object({ path: z.string(), message: z.string(), line: z.number().int().optional() })),
  })
  .meta({ description: 'Every problem of the request (paths like `body.input`, `query.limit`) or of the pipeline (paths inside it, with YAML lines).' });
export const UnavailableBody = z.object({ error: z.string(), service: z.string() });
export const JobStateBody = z.object({ error: z.string(), status: JobStatus });

export const SubmitResultBody = z.object({ jobId: z.string(), workflowId: z.string(), status: JobStatus, created: z.boolean() });

export const JobBody = z.object({
  jobId: z.string(),
  pipelineName: z.string(),
  definition: z.record(z.string(), z.unknown()),
  status: JobStatus,
  bucket: z.string(),
  inputPrefix: z.string(),
  workflowId: z.string(),
  parentJobId: z.string().nullable(),
  fleet: z.string(),
  priority: z.number().int().meta({ description: "The job's weight in its fleets' fair share (1–100)." }),
  concurrency: z.number().int().meta({ description: "The job's window: the definition's concurrency, or as tuned." }),
  tolerate: z.object({ failedParts: z.number().optional(), failedPercent: z.number().optional() }).nullable().meta({ description: 'Failed parts every stage tolerates when tuned; null: each stage its own.' }),
  createdAt: Time,
  startAt: MaybeTime,
  startedAt: MaybeTime,
  finishedAt: MaybeTime,
  summary: z.unknown(),
  error: z.string().nullable(),
});

export const StageRunBody = z.object({
  jobId: z.string(),
  stageId: z.string(),
  status: StageStatus,
  task: z.string(),
  mode: StageMode,
  partsTotal: z.number().int().nullable(),
  manifestKey: z.string().nullable(),
  completionQueueUrl: z.string().nullable(),
  startedAt: MaybeTime,
  finishedAt: MaybeTime,
  summary: z.unknown(),
  error: z.string().nullable(),
});

export const JobDetailsBody = JobBody.extend({ stages: z.array(StageRunBody) });
export const JobPageBody = z.object({ jobs: z.array(JobBody.extend({ progress: z.array(z.record(z.string(), z.unknown())).optional() })), nextCursor: z.string().optional() });

const TaskError = z.object({ message: z.string(), type: z.string(), retryable: z.boolean() });

export const PartPageBody = z.object({
  parts: z.array(
    z.object({
      stageId: z.string(),
      part: z.number().int(),
      attempt: z.number().int(),
      status: z.enum(PART_STATUSES),
      workerId: z.string().nullable(),
      sentAt: MaybeTime,
      startedAt: MaybeTime,
      finishedAt: MaybeTime,
      queueWaitMs: z.number().nullable(),
      runTimeMs: z.number().nullable(),
      bytesIn: z.number(),
      bytesOut: z.number(),
      error: TaskError.nullable(),
    }),
  ),
  nextCursor: z.string().optional(),
});

const Histogram = z.object({ minMs: z.number(), maxMs: z.number(), counts: z.array(z.number().int()) });

export const ChartsBody = z.object({
  times: z.array(z.number()).meta({ description: 'Bucket start times, epoch ms.' }),
  bucketMs: z.number(),
  finished: z.array(z.object({ stageId: z.string(), counts: z.array(z.number().int()) })),
  runTime: Histogram,
  queueWait: Histogram,
  workers: z.array(z.object({ workerId: z.string(), busyMs: z.array(z.number()) })),
});

export const SessionInfoBody = z.object({
  expiresAt: MaybeTime,
  csrfToken: z.string().nullable().meta({ description: 'Send it in the X-CSRF-Token header with every write authenticated by the cookie; null when the request used the bearer token.' }),
  temporalUi: z.object({ url: z.string(), namespace: z.string() }).nullable(),
});

export const ValidationBody = z.object({
  valid: z.boolean(),
  problems: z.array(z.object({ path: z.string(), message: z.string(), line: z.number().int().optional() })),
  name: z.string().optional(),
  stages: z.array(z.object({ id: z.string(), task: z.string(), needs: z.array(z.string()), chain: z.string(), fleet: z.string().optional() })).optional(),
});

const FleetStatusBody = z.object({
  fleet: z.string(),
  provider: z.string(),
  desired: z.number().int(),
  min: z.number().int(),
  max: z.number().int(),
  actual: z.number().int().nullable(),
  visible: z.number().int().nullable(),
  inFlight: z.number().int().nullable(),
  observedAt: MaybeTime,
  autoscaler: z.enum(['running', 'stopped']),
  workersUp: z.number().int(),
  pricePerWorkerHour: z.number().nullable(),
  costPerHour: z.number().nullable().meta({ description: 'pricePerWorkerHour × workers up; null without a price.' }),
  decisions: z.array(
    z.object({ at: Time, visible: z.number().int(), inFlight: z.number().int(), workers: z.number().int(), desired: z.number().int(), previous: z.number().int(), reason: z.string() }),
  ),
});

export const FleetListBody = z.object({ fleets: z.array(FleetStatusBody) });
export const FleetDetailsBody = FleetStatusBody.extend({
  workers: z.array(
    z.object({ workerId: z.string(), instanceId: z.string(), slots: z.number().int(), busySlots: z.number().int(), load: z.number(), partsDone: z.number(), partsFailed: z.number(), startedAt: Time, lastSeenAt: Time, status: z.string() }),
  ),
});

export const ProgressBody = z.object({
  jobId: z.string(),
  pipeline: z.string(),
  status: JobStatus,
  createdAt: Time,
  startAt: MaybeTime,
  startedAt: MaybeTime,
  finishedAt: MaybeTime,
  error: z.string().nullable(),
  stages: z.array(
    z.object({
      stageId: z.string(),
      task: z.string(),
      mode: StageMode.optional(),
      status: StageStatus,
      partsTotal: z.number().int().nullable(),
      inFlight: z.number().int(),
      running: z.number().int(),
      queued: z.number().int(),
      retryWaiting: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      retried: z.number().int(),
      done: z.number().int(),
      bytesIn: z.number(),
      bytesOut: z.number(),
      busyMs: z.number().meta({ description: "Run time of the stage's parts so far (finished − started), ms." }),
      startedAt: MaybeTime,
      finishedAt: MaybeTime,
      elapsedMs: z.number(),
      throughput: z.number().nullable(),
      etaMs: z.number().nullable(),
    }),
  ),
});

export const ResultsBody = z.object({
  jobId: z.string(),
  resultsKey: z.string(),
  entries: z.array(
    z.object({
      stage: z.string(),
      part: z.number().int(),
      result: z.unknown(),
      outputs: z.array(z.object({ key: z.string(), bytes: z.number(), url: z.string().optional() })),
    }),
  ),
});

const FleetWindow = {
  fleet: z.string(),
  pricePerWorkerHour: z.number().nullable().meta({ description: "From the fleet's definition; null: no price, no cost." }),
  workers: z.number().int(),
  workerMs: z.number(),
  busyMs: z.number(),
  idleMs: z.number(),
};

const Percentiles = z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable();
const partStats = {
  parts: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  retried: z.number().int(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  queueWaitMs: Percentiles,
  runTimeMs: Percentiles,
  busyMs: z.number(),
};
const SlowPart = z.object({
  stageId: z.string(),
  part: z.number().int(),
  workerId: z.string().nullable(),
  runTimeMs: z.number(),
  attempt: z.number().int(),
  status: z.enum(FINAL_PART_STATUSES),
});

export const ReportBody = z.object({
  jobId: z.string(),
  pipeline: z.string(),
  status: JobStatus,
  startedAt: MaybeTime,
  finishedAt: MaybeTime,
  makespanMs: z.number().nullable(),
  throughput: z.number().nullable(),
  ...partStats,
  stages: z.array(
    z.object({
      stageId: z.string(),
      task: z.string(),
      status: StageStatus,
      partsTotal: z.number().int().nullable(),
      startedAt: MaybeTime,
      finishedAt: MaybeTime,
      wallMs: z.number().nullable(),
      throughput: z.number().nullable(),
      ...partStats,
      slowest: z.array(SlowPart),
      cost: z.object({ fleet: z.string(), pricePerWorkerHour: z.number().nullable(), busyMs: z.number(), idleShareMs: z.number(), cost: z.number().nullable() }),
      cache: z.object({ hits: z.number().int(), misses: z.number().int(), savedMs: z.number() }).optional().meta({ description: "A finished stage with `cache: true`: parts reused from the part cache, parts run, and the run time the reused ones saved." }),
    }),
  ),
  slowest: z.array(SlowPart),
  workers: z.array(
    z.object({
      workerId: z.string(),
      parts: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      busyMs: z.number(),
      bytesIn: z.number(),
      bytesOut: z.number(),
    }),
  ),
  cost: z.object({
    busyMs: z.number(),
    idleShareMs: z.number(),
    cost: z.number().nullable(),
    unpriced: z.array(z.string()),
    fleets: z.array(z.object(FleetWindow)),
  }),
  generatedAt: Time,
});

export const FleetCostBody = z.object({
  ...FleetWindow,
  since: Time,
  until: Time,
  cost: z.number().nullable(),
});

export const TuneBody = z
  .strictObject({
    concurrency: z.number().int().min(LIMITS.concurrency.min).max(LIMITS.concurrency.max).optional().meta({ description: `Parts of the job in flight at once, across its stages, ${LIMITS.concurrency.min}–${LIMITS.concurrency.max}.` }),
    priority: z.number().int().min(LIMITS.priority.min).max(LIMITS.priority.max).optional().meta({ description: `The job's weight in its fleets' fair share, ${LIMITS.priority.min}–${LIMITS.priority.max}.` }),
    tolerate: z.union([z.number().int().min(0), z.string().regex(/^\d+(\.\d+)?%$/)]).optional().meta({ description: 'Finally failed parts every stage tolerates: a count, or a percentage like "0.5%".', examples: [3, '0.5%'] }),
  })
  .refine((t) => t.concurrency !== undefined || t.priority !== undefined || t.tolerate !== undefined, { message: 'give at least one of concurrency, priority, tolerate' });

export const TuneResultBody = z.object({
  jobId: z.string(),
  tune: z.object({ concurrency: z.number().optional(), priority: z.number().optional(), tolerate: z.object({ failedParts: z.number().optional(), failedPercent: z.number().optional() }).optional() }),
});

export const AcceptedBody = z.object({ jobId: z.string(), action: z.enum(['cancel', 'pause', 'resume']) });

export const UploadedBody = z.object({
  jobId: z.string(),
  key: z.string(),
  bytes: z.number().int(),
  input: z.string().meta({ description: 'Pass this as `input` (with the same `jobId`) to POST /v1/jobs.' }),
});

export const ScheduleBody = z.object({
  scheduleId: z.string(),
  cron: z.string().optional(),
  pipeline: z.string(),
  input: z.string(),
  paused: z.boolean(),
  nextRunAt: z.array(Time),
  recentJobIds: z.array(z.string()),
});
export const ScheduleListBody = z.object({ schedules: z.array(ScheduleBody) });
export const ScheduleCreatedBody = z.object({ scheduleId: z.string() });
export const HealthBody = z.object({ status: z.literal('ok') });

export const PartParams = z.strictObject({
  id: JobId,
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a stage id: 1–32 lowercase letters, digits or dashes, starting with a letter').meta({ examples: ['validate'] }),
  part: z.coerce.number().int().min(0).meta({ description: 'Part number, 0-based as in the manifest.' }),
});

const InputRefBody = z.object({ key: z.string(), start: z.number().optional(), end: z.number().optional(), bytes: z.number().optional() });
const OutputRefBody = z.object({ key: z.string(), bytes: z.number() });
const PartErrorBody = z.object({ message: z.string(), type: z.string(), retryable: z.boolean(), stderrTail: z.string().optional() });

export const PartBody = z.object({
  jobId: z.string(),
  stageId: z.string(),
  task: z.string(),
  part: z.number(),
  status: z.enum(['queued', 'retry_wait', 'succeeded', 'failed']),
  params: z.unknown(),
  timeoutMs: z.number(),
  bucket: z.string(),
  outputPrefix: z.string(),
  inputs: z.array(InputRefBody),
  inputsKey: z.string().nullable(),
  outputs: z.array(OutputRefBody),
  result: z.unknown(),
  attempts: z.array(
    z.object({
      attempt: z.number(),
      outcome: z.enum(['succeeded', 'failed', 'retried', 'inFlight']),
      workerId: z.string().nullable(),
      sentAt: MaybeTime,
      receivedAt: MaybeTime,
      startedAt: MaybeTime,
      finishedAt: MaybeTime,
      queueWaitMs: z.number().nullable(),
      runMs: z.number().nullable(),
      bytesIn: z.number(),
      bytesOut: z.number(),
      error: PartErrorBody.nullable(),
      retryAt: MaybeTime,
      outputs: z.array(OutputRefBody),
    }),
  ),
});
