import type { z } from 'zod';
import { JobNotFoundError, PartNotFoundError, PipelineValidationError, ServiceUnavailableError } from '../../common/errors';
import { FleetNotFoundError } from '../../grid/errors';
import { formatPath } from '../../pipeline/problems';
import { InvalidOptionError, JobInputError, JobStateError, PipelineSourceError, ScheduleError } from '../client/errors';

/** One problem of a request: where (`body.input`, `query.limit`, `params.id`) and what. */
export interface RequestProblem {
  path: string;
  message: string;
  line?: number;
}

/** Thrown when a request's params, query or body do not parse; carries every problem with its path. */
export class RequestValidationError extends Error {
  constructor(readonly problems: RequestProblem[]) {
    super(`invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'RequestValidationError';
  }
}

/** zod issues as problems, their paths under `location` (`body`, `query`, `params`). */
export function zodProblems(location: string, error: z.ZodError): RequestProblem[] {
  return error.issues.map((i) => ({ path: formatPath([location, ...i.path.map((s) => (typeof s === 'symbol' ? String(s) : s))]), message: i.message }));
}

/** An HTTP answer for an error: status and JSON body (never a stack trace), plus headers. */
export interface HttpError {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** True for errors the server did not expect (logged with their stack). */
  internal?: boolean;
}

export const UNAUTHORIZED: HttpError = { statusCode: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': 'Bearer realm="batchgrid"' } };

/** Maps what the client (or Fastify) throws to the API's answer. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof RequestValidationError) return { statusCode: 400, body: { error: 'invalid request', problems: err.problems } };
  if (err instanceof PipelineValidationError) return { statusCode: 400, body: { error: 'invalid pipeline', problems: err.problems } };
  if (err instanceof JobNotFoundError) return { statusCode: 404, body: { error: `job ${err.jobId} not found` } };
  if (err instanceof PartNotFoundError) return { statusCode: 404, body: { error: err.message } };
  if (err instanceof FleetNotFoundError) return { statusCode: 404, body: { error: `fleet ${err.fleet} not found` } };
  if (err instanceof ScheduleError) return { statusCode: err.reason === 'not-found' ? 404 : 409, body: { error: err.message } };
  if (err instanceof JobStateError) return { statusCode: 409, body: { error: err.message, status: err.status } };
  if (err instanceof InvalidOptionError || err instanceof JobInputError || err instanceof PipelineSourceError) return { statusCode: 400, body: { error: err.message } };
  if (err instanceof ServiceUnavailableError) {
    // The service's name only: its address is the operator's business, not the caller's.
    return { statusCode: 503, body: { error: `service unavailable: ${err.service}`, service: err.service }, headers: { 'retry-after': '5' } };
  }
  const fastify = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (typeof fastify?.code === 'string' && fastify.code.startsWith('FST_') && typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const message = String(fastify.message);
    if (fastify.statusCode === 400) return { statusCode: 400, body: { error: 'invalid request', problems: [{ path: 'body', message }] } };
    return { statusCode: fastify.statusCode, body: { error: message } };
  }
  return { statusCode: 500, body: { error: 'internal error' }, internal: true };
}
