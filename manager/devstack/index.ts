/** The local stack behind `batchgrid dev`: Temporal dev server, moto, ElasticMQ, the S3 server (versitygw), Postgres, the bucket. */
export { ensureStack, stopStack, stackStatus } from './stack';
export type { StackOptions, StackResult } from './stack';
export type { ServiceReport, ServiceState, SqsBackend } from './services';
export { DevStackError } from './errors';
export { formatTable } from './report';
export { stopDevService, startDevService, restartDevService, devServiceAnswers, DEV_SERVICES } from './control';
export type { DevServiceName, DevServiceOptions } from './control';
