import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { Config, config } from './config';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  autoScaling: AutoScalingClient;
}

function common(cfg: Config) {
  // Local emulators accept any credentials; real AWS uses the SDK's default chain.
  const credentials =
    cfg.localAws && !cfg.AWS_ACCESS_KEY_ID ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined;
  return { region: cfg.AWS_REGION, credentials, maxAttempts: 5 };
}

/** Longest an SQS request may stay silent before it is failed, in ms. */
export const SQS_REQUEST_TIMEOUT_MS = 25_000;

/** S3, SQS and Auto Scaling clients pointed at the configured endpoints. */
export function createAwsClients(cfg: Config = config()): AwsClients {
  const base = common(cfg);
  return {
    s3: new S3Client({ ...base, endpoint: cfg.endpoints.s3, forcePathStyle: cfg.endpoints.s3 !== undefined }),
    // An SQS call never legitimately waits longer than a 20 s long poll: one silent for 25 s is
    // dead (a server restarted under it), and is failed so the caller can retry.
    sqs: new SQSClient({ ...base, endpoint: cfg.endpoints.sqs, requestHandler: { requestTimeout: SQS_REQUEST_TIMEOUT_MS, connectionTimeout: 5000 } }),
    autoScaling: new AutoScalingClient({ ...base, endpoint: cfg.endpoints.autoScaling }),
  };
}

export function destroyAwsClients(c: AwsClients): void {
  c.s3.destroy();
  c.sqs.destroy();
  c.autoScaling.destroy();
}

/** SQS queue names: at most 80 characters of letters, digits, `-` and `_`. Long names keep a readable head and a hash. */
export function queueName(...parts: string[]): string {
  const name = parts.join('-').replace(/[^A-Za-z0-9_-]/g, '_');
  if (name.length <= 80) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  return `${name.slice(0, 67)}-${hash}`;
}

export const fleetQueueName = (prefix: string, fleet: string) => queueName(prefix, 'fleet', fleet);
export const fleetDlqName = (prefix: string, fleet: string) => queueName(prefix, 'fleet', fleet, 'dlq');
export const fleetEventsQueueName = (prefix: string, fleet: string) => queueName(prefix, 'fleet', fleet, 'events');
export const completionQueueName = (prefix: string, jobId: string, stageId: string) => queueName(prefix, 'done', jobId, stageId);
