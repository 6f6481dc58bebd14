import { z } from 'zod';
import type { ApiRoute } from './routes';
import * as s from './schemas';

/** Response bodies shared by routes, as OpenAPI components (referenced by name). */
const COMPONENTS: Record<string, z.ZodType> = {
  Error: s.ErrorBody,
  Problems: s.ProblemsBody,
  Unavailable: s.UnavailableBody,
  JobStateConflict: s.JobStateBody,
  SubmitResult: s.SubmitResultBody,
  Job: s.JobBody,
  StageRun: s.StageRunBody,
  JobDetails: s.JobDetailsBody,
  JobPage: s.JobPageBody,
  JobProgress: s.ProgressBody,
  JobResults: s.ResultsBody,
  JobReport: s.ReportBody,
  ActionAccepted: s.AcceptedBody,
  UploadedInput: s.UploadedBody,
  Schedule: s.ScheduleBody,
  ScheduleList: s.ScheduleListBody,
  ScheduleCreated: s.ScheduleCreatedBody,
  Health: s.HealthBody,
};

type JsonSchema = Record<string, unknown>;

const REF = (name: string) => `#/components/schemas/${name}`;

/**
 * JSON Schema (2020-12, as OpenAPI 3.1 uses) of a zod schema, as a caller sends or reads it
 * (`io: 'input'`: no `additionalProperties: false` on answers, so new fields are not breaking).
 */
const jsonSchemaOptions = {
  io: 'input' as const,
  unrepresentable: 'any' as const,
  // The ISO regex zod adds to date-times says nothing `format: date-time` does not.
  override: (ctx: { jsonSchema: JsonSchema }) => {
    if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
  },
};

function toJson(schema: z.ZodType): JsonSchema {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, jsonSchemaOptions) as JsonSchema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { ...jsonSchemaOptions, uri: REF }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(out.schemas).map(([id, { $schema: _s, $id: _i, ...rest }]) => [id, rest]));
}

/** A body schema by reference when it is a component, else inline. */
function bodySchema(schema: z.ZodType): JsonSchema {
  const name = Object.entries(COMPONENTS).find(([, c]) => c === schema)?.[0];
  return name ? { $ref: REF(name) } : toJson(schema);
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** `/v1/jobs/:id/input/*` → `/v1/jobs/{id}/input/{path}`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined): JsonSchema[] {
  if (!schema) return [];
  const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
  return Object.entries(shape).map(([name, field]) => {
    const { description, ...fieldSchema } = toJson(field);
    return {
      name: name === '*' ? 'path' : name,
      in: where,
      required: where === 'path' || !field.safeParse(undefined).success,
      ...(description !== undefined ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

function responses(route: ApiRoute): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    out[status] = { description: r.description, ...(r.schema ? { content: json(bodySchema(r.schema)) } : status === '200' ? { content: json({}) } : {}) };
  }
  if (route.params || route.query || route.body || route.stream) {
    out['400'] = {
      description: 'Invalid request: every problem with its path (or every problem of the pipeline), or an argument the engine refuses (`{ "error": … }`).',
      content: json({ anyOf: [{ $ref: REF('Problems') }, { $ref: REF('Error') }] }),
    };
  }
  if (route.public !== true) out['401'] = { description: 'Missing or wrong bearer token: `{ "error": "unauthorized" }`.', content: json({ $ref: REF('Error') }) };
  if (route.errors?.includes(404)) out['404'] = { description: 'Unknown job (`job X not found`) or schedule.', content: json({ $ref: REF('Error') }) };
  if (route.errors?.includes(409)) out['409'] = { description: 'Not possible in the current state (the job status is given for jobs).', content: json({ $ref: REF('JobStateConflict') }) };
  out['500'] = { description: 'Unexpected failure (logged on the server; no details are returned).', content: json({ $ref: REF('Error') }) };
  out['503'] = { description: 'A service batchgrid depends on (Postgres, Temporal, S3) does not answer.', content: json({ $ref: REF('Unavailable') }) };
  return out;
}

/** The OpenAPI 3.1 document of `routes`, generated from their zod schemas. */
export function openApiDocument(routes: ApiRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.public === true ? { security: [] } : {}),
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      responses: responses(route),
    };
    if (route.body) operation.requestBody = { required: !route.body.safeParse(undefined).success, content: json(toJson(route.body)) };
    if (route.stream) {
      operation.requestBody = { required: true, description: 'The file, streamed; any content type (stored with the object).', content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } };
    }
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'batchgrid API',
      version,
      description: 'Submit pipelines, follow and control jobs, fetch results and reports, manage schedules. Every route needs `Authorization: Bearer <token>` except /healthz.',
    },
    security: [{ bearerAuth: [] }],
    paths,
    components: { schemas: components(), securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'The server\'s BATCHGRID_API_TOKEN.' } } },
  };
}
