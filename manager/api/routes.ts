import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { PipelineValidationError } from '../../common/errors';
import { compilePipeline, compilePipelineObject } from '../../pipeline';
import type { PipelineDef } from '../../pipeline/types';
import type { PartStatus } from '../../common/status';
import type { BatchGridClient, JobStatus } from '../client';
import { JobIdTakenError } from '../client/errors';
import type { InputUploadOptions } from '../client/upload';
import type { FleetStatus } from '../../grid/service';
import { UNAUTHORIZED } from './errors';
import * as s from './schemas';
import type { SessionKeeper } from './session';

/** What handlers use: the client, upload tuning, sessions, and the OpenAPI document (made from this table). */
export interface RouteContext {
  client: BatchGridClient;
  upload: InputUploadOptions;
  openApi(): unknown;
  sessions: SessionKeeper;
  /** True when `token` is the API token (constant time). */
  tokenMatches(token: string): boolean;
  temporalUi?: { url: string; namespace: string };
}

/** A request after validation: params, query and body as their schemas output them. */
export interface ApiRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  raw: FastifyRequest;
}

/** A handler's answer: status, JSON body (none for 204) and headers. */
export interface ApiReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDef<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify path: `:name` parameters, `*` for the rest of the path. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  /**
   * True only for a route that must answer without the bearer token (the health probe). Default: false:
   * the token is needed, as it is for every path that matches no route.
   */
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** The body is streamed to the handler unparsed (uploads), any content type. */
  stream?: boolean;
  /** Success answers: status → description and body schema (none: no body). */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Error answers besides 400, 401, 500 and 503: 404 (unknown job or schedule), 409 (wrong state). */
  errors?: (404 | 409)[];
  handle(req: ApiRequest<Out<P>, Out<Q>, Out<B>>, ctx: RouteContext): Promise<ApiReply>;
}

/** A route of the table with its types erased. */
export type ApiRoute = RouteDef<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

const route = <P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  def: RouteDef<P, Q, B>,
): ApiRoute => def as unknown as ApiRoute;

/**
 * A pipeline from a request: text is compiled as YAML/JSON (never read as a file path on the
 * server), an object as written; every problem is a PipelineValidationError.
 */
export function requestPipeline(pipeline: string | Record<string, unknown>): PipelineDef {
  const result = typeof pipeline === 'string' ? compilePipeline(pipeline) : compilePipelineObject(pipeline);
  if (!result.ok) throw new PipelineValidationError(result.problems);
  return result.pipeline;
}

/** Form encodings: how an HTML form is sent, never what a file is (and curl's default for `--data-binary`). */
const FORM_ENCODINGS = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;.*)?$/;

/**
 * The Content-Type to store an uploaded file with: the request's, unless it is absent, malformed or a
 * form encoding (then none: S3's binary/octet-stream). The object's type travels as the type of the S3
 * PUT itself, and an S3 endpoint built on a web framework (moto, the dev stack's) reads a form-encoded
 * PUT as form fields: it stored an empty object under the real bytes' checksum, which no reader accepts.
 */
function storedContentType(header: string | undefined): string | undefined {
  if (header === undefined || !MEDIA_TYPE.test(header)) return undefined;
  return FORM_ENCODINGS.has(header.split(';')[0]!.trim().toLowerCase()) ? undefined : header;
}

const action = (name: 'cancel' | 'pause' | 'resume', summary: string) =>
  route({
    method: 'POST',
    url: `/v1/jobs/:id/${name}`,
    operationId: `${name}Job`,
    summary,
    params: s.JobParams,
    responses: { 202: { description: 'Requested; follow the job to see it take effect.', schema: s.AcceptedBody } },
    errors: [404, 409],
    async handle({ params }, { client }) {
      await client[name](params.id);
      return { status: 202, body: { jobId: params.id, action: name } };
    },
  });

/** A fleet's status as the API shows it: its price and cost per hour beside the autoscaler's view. */
function fleetView(f: FleetStatus) {
  const def = f.definition as { pricePerWorkerHour?: number } | null;
  const price = typeof def?.pricePerWorkerHour === 'number' ? def.pricePerWorkerHour : null;
  const { definition: _definition, updatedAt: _updatedAt, ...rest } = f;
  return { ...rest, pricePerWorkerHour: price, costPerHour: price === null ? null : price * f.workersUp, decisions: f.decisions.map(({ id: _id, fleet: _fleet, ...d }) => d) };
}

/** Over plain HTTP the cookie cannot be Secure (the browser would drop it); behind TLS it always is. */
const secure = (req: FastifyRequest) => req.protocol === 'https';

/** Every route of the API, in the order docs/api.md lists them. */
export const apiRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    url: '/healthz',
    operationId: 'health',
    summary: 'Liveness and readiness: Postgres and Temporal answer',
    public: true,
    responses: { 200: { description: 'Both answer.', schema: s.HealthBody } },
    async handle(_req, { client }) {
      await client.ping();
      return { status: 200, body: { status: 'ok' } };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/openapi.json',
    operationId: 'openApi',
    summary: 'This API as an OpenAPI 3.1 document',
    responses: { 200: { description: 'The OpenAPI document.' } },
    async handle(_req, { openApi }) {
      return { status: 200, body: openApi() };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/session',
    operationId: 'signIn',
    summary: 'Exchange the API token for a console session cookie',
    description:
      'Sets `batchgrid_session` (HttpOnly, SameSite=Strict, signed with a key derived from the token; Secure over HTTPS), valid 12 hours, and returns its CSRF token: ' +
      'every write authenticated by the cookie must carry it in the `X-CSRF-Token` header. A wrong token is a 401. Bearer authentication keeps working beside it.',
    public: true,
    body: s.SessionBody,
    responses: { 201: { description: 'Signed in; the cookie is set.', schema: s.SessionInfoBody } },
    async handle({ body, raw }, { sessions, tokenMatches, temporalUi }) {
      // The same answer as any request without the token: it tells nothing more.
      if (!tokenMatches(body.token)) return { status: UNAUTHORIZED.statusCode, headers: UNAUTHORIZED.headers, body: UNAUTHORIZED.body };
      const session = sessions.create({ secure: secure(raw) });
      return { status: 201, headers: { 'set-cookie': session.cookie }, body: { expiresAt: session.expiresAt, csrfToken: session.csrfToken, temporalUi: temporalUi ?? null } };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/session',
    operationId: 'getSession',
    summary: 'The current console session: its end and CSRF token',
    responses: { 200: { description: 'The session (nulls when the request used the bearer token).', schema: s.SessionInfoBody } },
    async handle({ raw }, { temporalUi }) {
      return { status: 200, body: { expiresAt: raw.session?.expiresAt ?? null, csrfToken: raw.session?.csrfToken ?? null, temporalUi: temporalUi ?? null } };
    },
  }),
  route({
    method: 'DELETE',
    url: '/v1/session',
    operationId: 'signOut',
    summary: 'Sign out: the browser drops the session cookie',
    responses: { 204: { description: 'Signed out.' } },
    async handle({ raw }, { sessions }) {
      return { status: 204, headers: { 'set-cookie': sessions.clearCookie({ secure: secure(raw) }) } };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/pipelines/validate',
    operationId: 'validatePipeline',
    summary: 'Check a pipeline without submitting it: every problem with its path (and line, for text)',
    body: s.ValidateBody,
    responses: { 200: { description: 'Whether it is valid, its problems, and its stages when valid.', schema: s.ValidationBody } },
    async handle({ body }) {
      const r = typeof body.pipeline === 'string' ? compilePipeline(body.pipeline) : compilePipelineObject(body.pipeline);
      if (!r.ok) return { status: 200, body: { valid: false, problems: r.problems } };
      const stages = r.pipeline.stages.map((st) => ({ id: st.id, task: st.task, needs: st.needs, chain: st.chain, fleet: st.fleet }));
      return { status: 200, body: { valid: true, problems: [], name: r.pipeline.name, stages } };
    },
  }),
  route({
    method: 'PUT',
    url: '/v1/jobs/:id/input/*',
    operationId: 'uploadInput',
    summary: "Stream one file of a new job's input to S3",
    description:
      'The body (any content type, any size) is streamed to `jobs/{id}/input/{path}` in S3 in parts, never held whole in memory. ' +
      'Upload every file, then submit with `POST /v1/jobs` and `{ "jobId": id, "input": <input from the answer> }`. Refused (409) once job {id} exists.',
    params: s.UploadParams,
    stream: true,
    responses: { 201: { description: 'Stored.', schema: s.UploadedBody } },
    errors: [409],
    async handle({ params, raw }, { client, upload }) {
      const uploaded = await client.uploadInput(params.id, params['*'], raw.raw, { ...upload, contentType: storedContentType(raw.headers['content-type']) });
      return { status: 201, body: uploaded };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/jobs',
    operationId: 'submitJob',
    summary: 'Submit a pipeline over an S3 input',
    description:
      'Validates the pipeline (every problem is listed, sizes included: see the limits in docs/pipeline-format.md), records the job and starts it. ' +
      'With a `jobId` that exists with the same pipeline and input, returns that job (200) and starts nothing; a `jobId` another submit holds, ' +
      'or that names a job with another definition or input, is a 409.',
    body: s.SubmitBody,
    responses: { 201: { description: 'Submitted.', schema: s.SubmitResultBody }, 200: { description: 'The job already existed.', schema: s.SubmitResultBody } },
    errors: [409],
    async handle({ body }, { client }) {
      const pipeline = requestPipeline(body.pipeline);
      try {
        const r = await client.submit(pipeline, { input: body.input, jobId: body.jobId, priority: body.priority, startAt: body.startAt !== undefined ? new Date(body.startAt) : undefined });
        return { status: r.created ? 201 : 200, body: r };
      } catch (err) {
        if (err instanceof JobIdTakenError) return { status: 409, body: { error: err.message } };
        throw err;
      }
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs',
    operationId: 'listJobs',
    summary: 'Jobs, newest first, one page at a time',
    query: s.ListQuery,
    responses: { 200: { description: 'A page of jobs; `nextCursor` when there may be more.', schema: s.JobPageBody } },
    async handle({ query }, { client }) {
      const status = query.status?.split(',') as JobStatus[] | undefined;
      const { pipeline, fleet, q, limit, cursor } = query;
      return { status: 200, body: await client.list({ pipeline, status, fleet, idPrefix: q, withProgress: query.progress === 'true', limit, cursor }) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id',
    operationId: 'getJob',
    summary: 'A job and its stage runs',
    params: s.JobParams,
    responses: { 200: { description: 'The job.', schema: s.JobDetailsBody } },
    errors: [404],
    async handle({ params }, { client }) {
      return { status: 200, body: await client.get(params.id) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/progress',
    operationId: 'getJobProgress',
    summary: "A job's progress: per stage counts, throughput and ETA",
    params: s.JobParams,
    responses: { 200: { description: 'Progress, every stage of the pipeline in order.', schema: s.ProgressBody } },
    errors: [404],
    async handle({ params }, { client }) {
      return { status: 200, body: await client.progress(params.id) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/results',
    operationId: 'getJobResults',
    summary: "A succeeded job's results, outputs as presigned URLs",
    params: s.JobParams,
    query: s.ResultsQuery,
    responses: { 200: { description: 'The entries of results.jsonl.', schema: s.ResultsBody } },
    errors: [404, 409],
    async handle({ params, query }, { client }) {
      return { status: 200, body: await client.results(params.id, { expiresInSeconds: query.expiresInSeconds }) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/report',
    operationId: 'getJobReport',
    summary: "A job's performance report",
    description: 'Parts, failures, retries, makespan, per-stage wall time and throughput, queue wait and run time percentiles (p50/p95/p99), the slowest parts, bytes, and per-worker figures.',
    params: s.JobParams,
    query: s.ReportQuery,
    responses: { 200: { description: 'The report (durations in ms).', schema: s.ReportBody } },
    errors: [404],
    async handle({ params, query }, { client }) {
      return { status: 200, body: await client.report(params.id, { slowest: query.slowest }) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/stages/:stage/parts/:part',
    operationId: 'getPart',
    summary: 'One part of a stage: its attempts, inputs and outputs',
    description: "Every attempt of the part (worker, times, error, the built-in exec's stderr tail), its inputs (a claim-checked list read) and its published outputs and result. 404 when the job, the stage or the part is unknown.",
    params: s.PartParams,
    responses: { 200: { description: 'The part (times ISO, durations in ms).', schema: s.PartBody } },
    errors: [404],
    async handle({ params }, { client }) {
      return { status: 200, body: await client.part(params.id, params.stage, params.part) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/parts',
    operationId: 'listJobParts',
    summary: "A job's parts, one page at a time: attempts, worker, queue wait, run time, bytes, error",
    description: 'In (stage, part) order, filtered by stage and status; a page reads only its own rows, so a 1,000,000-part job pages as fast as a small one.',
    params: s.JobParams,
    query: s.PartsQuery,
    responses: { 200: { description: 'A page of parts; `nextCursor` when there may be more.', schema: s.PartPageBody } },
    errors: [404],
    async handle({ params, query }, { client }) {
      const status = query.status?.split(',') as PartStatus[] | undefined;
      return { status: 200, body: await client.parts(params.id, { stageId: query.stage, status, limit: query.limit, cursor: query.cursor }) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/jobs/:id/charts',
    operationId: 'getJobCharts',
    summary: "A job's report as chart series: parts finished over time per stage, run-time and queue-wait histograms, per-worker busy time",
    params: s.JobParams,
    query: s.ChartsQuery,
    responses: { 200: { description: 'The series (a fixed number of buckets whatever the job size).', schema: s.ChartsBody } },
    errors: [404],
    async handle({ params, query }, { client }) {
      return { status: 200, body: await client.charts(params.id, { buckets: query.buckets }) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/fleets',
    operationId: 'listFleets',
    summary: 'Every fleet: desired and actual workers, backlog, autoscaler, latest decisions, cost per hour',
    query: s.FleetQuery,
    responses: { 200: { description: 'Fleets by name.', schema: s.FleetListBody } },
    async handle({ query }, { client }) {
      return { status: 200, body: { fleets: (await client.gridStatus({ decisions: query.decisions ?? 5 })).map(fleetView) } };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/fleets/:fleet',
    operationId: 'getFleet',
    summary: 'A fleet: desired vs actual workers, backlog, scaling decisions with their reasons, live workers with their load',
    params: s.FleetParams,
    query: s.FleetQuery,
    responses: { 200: { description: 'The fleet.', schema: s.FleetDetailsBody } },
    errors: [404],
    async handle({ params, query }, { client }) {
      const [status] = await client.gridStatus({ fleet: params.fleet, decisions: query.decisions ?? 50 });
      const workers = await client.workers({ fleet: params.fleet });
      return { status: 200, body: { ...fleetView(status!), workers } };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/fleets/:fleet/cost',
    operationId: 'getFleetCost',
    summary: "A fleet's worker time and cost over a period",
    description: "All the fleet's workers' up time in [since, until], busy (every job's parts) or idle, times the fleet's pricePerWorkerHour (docs/api.md, \"Cost\").",
    params: s.FleetParams,
    query: s.FleetCostQuery,
    responses: { 200: { description: 'The fleet over the period (durations in ms; cost null without a price).', schema: s.FleetCostBody } },
    async handle({ params, query }, { client }) {
      return { status: 200, body: await client.fleetCost(params.fleet, { since: new Date(query.since), until: query.until === undefined ? undefined : new Date(query.until) }) };
    },
  }),
  action('cancel', 'Cancel a job: no new part is sent, parts in flight are abandoned'),
  action('pause', 'Pause a job: parts in flight finish, no new part is sent until resume'),
  route({
    method: 'POST',
    url: '/v1/jobs/:id/tune',
    operationId: 'tuneJob',
    summary: "Change a running job's concurrency, priority or tolerated failures (the workflow's `tune` update: recorded in its history, applied within about a second)",
    params: s.JobParams,
    body: s.TuneBody,
    responses: { 200: { description: 'What was set.', schema: s.TuneResultBody } },
    errors: [404, 409],
    async handle({ params, body }, { client }) {
      return { status: 200, body: { jobId: params.id, tune: await client.tune(params.id, body) } };
    },
  }),
  action('resume', 'Resume a paused job'),
  route({
    method: 'POST',
    url: '/v1/jobs/:id/retry',
    operationId: 'retryJob',
    summary: 'Start a new job over only the finally failed parts of a finished job',
    params: s.JobParams,
    body: s.RetryBody,
    responses: { 201: { description: 'The retry job was started.', schema: s.SubmitResultBody }, 200: { description: 'A retry job with that id already existed.', schema: s.SubmitResultBody } },
    errors: [404, 409],
    async handle({ params, body }, { client }) {
      const r = await client.retryFailed(params.id, { jobId: body?.jobId });
      return { status: r.created ? 201 : 200, body: r };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/schedules',
    operationId: 'listSchedules',
    summary: "This installation's schedules",
    responses: { 200: { description: 'Schedules by id (a new one may take a moment to show).', schema: s.ScheduleListBody } },
    async handle(_req, { client }) {
      return { status: 200, body: { schedules: await client.listSchedules() } };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/schedules',
    operationId: 'createSchedule',
    summary: 'Submit a pipeline over an S3 input on a cron schedule',
    body: s.CreateScheduleBody,
    responses: { 201: { description: 'Created.', schema: s.ScheduleCreatedBody } },
    errors: [409],
    async handle({ body }, { client }) {
      await client.createSchedule({ scheduleId: body.scheduleId, cron: body.cron, timezone: body.timezone, pipeline: requestPipeline(body.pipeline), input: body.input });
      return { status: 201, body: { scheduleId: body.scheduleId } };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/schedules/:id/trigger',
    operationId: 'triggerSchedule',
    summary: 'Run a schedule now',
    params: s.ScheduleParams,
    responses: { 202: { description: 'Temporal accepted the run.', schema: s.ScheduleCreatedBody } },
    errors: [404],
    async handle({ params }, { client }) {
      await client.triggerSchedule(params.id);
      return { status: 202, body: { scheduleId: params.id } };
    },
  }),
  route({
    method: 'DELETE',
    url: '/v1/schedules/:id',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule (jobs it started are left alone)',
    params: s.ScheduleParams,
    responses: { 204: { description: 'Deleted.' } },
    errors: [404],
    async handle({ params }, { client }) {
      await client.deleteSchedule(params.id);
      return { status: 204 };
    },
  }),
];
