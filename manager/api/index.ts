/** The batchgrid HTTP API: `buildApp({ client, token })` gives a Fastify instance; `batchgrid serve` listens with it. */
export { buildApp, type ApiOptions } from './app';
export { MIN_TOKEN_CHARS } from './auth';
export { openApiDocument, openApiPath } from './openapi';
export { apiRoutes, requestPipeline, type ApiRoute } from './routes';
