import { CreateBucketCommand, HeadBucketCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { createAwsClients, destroyAwsClients } from '../../common/aws';
import type { Config } from '../../common/config';
import { DevStackError } from './errors';
import type { ServiceReport } from './services';

/** Creates BATCHGRID_BUCKET on the local S3 endpoint if it is missing. Never touches a non-local S3. */
export async function ensureBucket(cfg: Config): Promise<ServiceReport> {
  const endpoint = cfg.endpoints.s3;
  const base = { service: 'bucket', endpoint: `s3://${cfg.BATCHGRID_BUCKET}`, managed: false };
  if (!endpoint || !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint)) {
    return { ...base, state: 'external', note: 'S3 is not local; not created' };
  }
  const clients = createAwsClients(cfg);
  try {
    try {
      await clients.s3.send(new HeadBucketCommand({ Bucket: cfg.BATCHGRID_BUCKET }));
      return { ...base, state: 'exists', note: `on ${endpoint}` };
    } catch (err) {
      if (!(err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) throw err;
    }
    const location = cfg.AWS_REGION === 'us-east-1' ? undefined : { LocationConstraint: cfg.AWS_REGION as never };
    await clients.s3.send(new CreateBucketCommand({ Bucket: cfg.BATCHGRID_BUCKET, CreateBucketConfiguration: location }));
    return { ...base, state: 'created', note: `on ${endpoint}` };
  } catch (err) {
    throw new DevStackError('bucket', `cannot create s3://${cfg.BATCHGRID_BUCKET} on ${endpoint}: ${(err as Error).message}`, 'Check that the S3 endpoint is up: `batchgrid dev status`.', undefined, { cause: err });
  } finally {
    destroyAwsClients(clients);
  }
}
