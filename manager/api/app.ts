import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { Logger } from '../../common/logger';
import { packageRoot } from '../../common/paths';
import type { BatchGridClient } from '../client';
import type { InputUploadOptions } from '../client/upload';
import { bearerChecker } from './auth';
import { registerConsole } from './console';
import { RequestValidationError, toHttpError, UNAUTHORIZED, zodProblems, type HttpError, type RequestProblem } from './errors';
import { openApiDocument } from './openapi';
import { apiRoutes, type ApiRoute, type RouteContext } from './routes';
import { CSRF_HEADER, sessionKeeper, type Session } from './session';

/** What `buildApp` needs; see each option for its default. */
export interface ApiOptions {
  /** The client every route calls; not closed by the app. */
  client: BatchGridClient;
  /** Bearer token every request must carry, except to routes marked public (the health probe); at least 16 characters. */
  token: string;
  /** Logger for requests and unexpected errors. Default: none. */
  logger?: Logger;
  /** Streamed input uploads (memory held per upload ≈ (queueSize + 1) × partSizeBytes). Default: 8 MiB parts, 2 at once. */
  upload?: Pick<InputUploadOptions, 'partSizeBytes' | 'queueSize'>;
  /** Largest JSON body accepted, in bytes (pipelines travel inline). Default: 1 MiB. */
  bodyLimitBytes?: number;
  /** Version shown in the OpenAPI document. Default: batchgrid's package version. */
  version?: string;
  /** Where the console links a job in the Temporal UI: its base URL and namespace. Default: no link. */
  temporalUi?: { url: string; namespace: string };
  /** Folder of the built console (index.html, signin.js, app.js, app.css). Default: dist/console of this package. */
  consoleDir?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set from the route table: the route answers without the token. Absent (every other route, and no route at all): the token is needed. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The console session the request's cookie carries, when it was authenticated by it (not by the bearer token). */
    session?: Session;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CSRF_REFUSED: HttpError = { statusCode: 403, body: { error: `forbidden: a write with the session cookie needs the session's CSRF token in the ${CSRF_HEADER} header` } };

function send(reply: FastifyReply, e: HttpError): FastifyReply {
  if (e.headers) reply.headers(e.headers);
  return reply.code(e.statusCode).type('application/json; charset=utf-8').send(e.body);
}

/** A missing field reads "required" rather than zod's "expected string, received undefined". */
const requiredMessage = (issue: { code: string; input?: unknown }) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined);

/** Parses params, query and body with the route's schemas; every problem of the three in one RequestValidationError. */
function validate(route: ApiRoute, req: FastifyRequest): { params: unknown; query: unknown; body: unknown } {
  const problems: RequestProblem[] = [];
  const parse = (location: string, schema: z.ZodType | undefined, value: unknown) => {
    if (!schema) return undefined;
    const r = schema.safeParse(value, { error: requiredMessage });
    if (r.success) return r.data;
    problems.push(...zodProblems(location, r.error));
    return undefined;
  };
  const parsed = { params: parse('params', route.params, req.params), query: parse('query', route.query, req.query), body: parse('body', route.body, req.body) };
  if (problems.length > 0) throw new RequestValidationError(problems);
  return parsed;
}

/**
 * The batchgrid HTTP API as a Fastify instance (not listening: call `listen`, or `inject` in
 * tests). Every route not marked public in the route table needs the bearer token; requests are
 * validated by the routes' zod schemas; errors are JSON `{ error, … }` without stack traces.
 */
export function buildApp(options: ApiOptions): FastifyInstance {
  const authorized = bearerChecker(options.token);
  const sessions = sessionKeeper(options.token);
  // Typed with Fastify's base logger: a pino Logger is one, but its own type would leak into every route type.
  const app: FastifyInstance = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.bodyLimitBytes ?? 2 ** 20,
    // Uploads may stream for a long time; the client's pace sets it.
    requestTimeout: 0,
    // A URL the router cannot decode (`%zz`, an overlong parameter) is refused before any hook runs: the token decides what it learns.
    frameworkErrors: (err, req, reply) => send(reply, authorized(req.headers.authorization) ? { statusCode: err.statusCode ?? 400, body: { error: err.message } } : UNAUTHORIZED),
  });

  let openApi: unknown;
  const ctx: RouteContext = {
    client: options.client,
    upload: { ...options.upload },
    sessions,
    tokenMatches: (token) => authorized(`Bearer ${token}`),
    temporalUi: options.temporalUi,
    openApi: () => (openApi ??= openApiDocument(apiRoutes, options.version ?? packageVersion())),
  };

  // Decided on the route the router matched (the URL as it decoded it), never on the raw URL, and denied
  // unless that route is marked public: a path that matches no route needs the token too, so an
  // unauthenticated request learns nothing, not even whether its route exists. Runs before the body is read.
  // The console's session cookie stands for the token; a write it authenticates must also carry the
  // session's CSRF token (SameSite=Strict keeps other sites from sending the cookie; the header keeps
  // a same-site page that is not the console from writing).
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.public === true || authorized(req.headers.authorization)) return;
    const session = sessions.read(req.headers.cookie);
    if (!session) return send(reply, UNAUTHORIZED);
    if (!SAFE_METHODS.has(req.method) && !sessions.csrfMatches(session, req.headers[CSRF_HEADER])) return send(reply, CSRF_REFUSED);
    req.session = session;
  });
  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    if (e.internal) req.log.error({ err }, 'request failed');
    else if (e.statusCode >= 500) req.log.warn({ err: { message: (err as Error).message } }, 'service unavailable');
    return send(reply, e);
  });
  app.setNotFoundHandler((_req, reply) => send(reply, { statusCode: 404, body: { error: 'not found' } }));
  // Fastify's JSON parser (prototype-poisoning checks included), except that an empty body is no body:
  // clients often send `Content-Type: application/json` on a bare POST /cancel.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => (body.length === 0 ? done(null, undefined) : parseJson(req, body.toString(), done)));

  const handler = (route: ApiRoute) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { params, query, body } = validate(route, req);
    const out = await route.handle({ params, query, body, raw: req }, ctx);
    reply.code(out.status);
    if (out.headers) reply.headers(out.headers);
    return out.body === undefined ? reply.send() : reply.send(out.body);
  };

  const fastifyRoute = (route: ApiRoute) => ({ method: route.method, url: route.url, config: { public: route.public === true }, handler: handler(route) });
  for (const route of apiRoutes.filter((r) => !r.stream)) app.route(fastifyRoute(route));
  // Streamed routes get the raw request: no parser reads (or buffers) their body.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    for (const route of apiRoutes.filter((r) => r.stream)) scope.route(fastifyRoute(route));
  });
  registerConsole(app, options.consoleDir ?? join(packageRoot(), 'dist', 'console'));
  return app;
}

let version: string | undefined;
/** batchgrid's version, from its package.json. */
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
