import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { countCall, detailedCounts } from './call-counts';
import { Config, config } from './config';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  autoScaling: AutoScalingClient;
}

/**
 * One retry layer per AWS call, never one retry loop inside another (which tries a call
 * attempts × attempts times, and hides the inner failures from the logs).
 *
 * - By default the layer is the SDK's standard retry strategy: SDK_MAX_ATTEMPTS attempts with
 *   jittered backoff and a retry quota. The orchestrator's activities, the client, the API and
 *   the CLI have no retry of their own (Temporal retries a whole activity, not a call).
 * - A caller that retries by itself asks for 1 attempt on the clients it retries: the fleet
 *   worker's SQS and Auto Scaling calls all go through retryAws (common/sqs/retry.ts: logged,
 *   abortable, bounded by the stop deadline) or a loop that tries again (the poller), so its
 *   clients are made with FLEET_WORKER_SDK_ATTEMPTS. Its S3 client keeps the SDK's retry:
 *   handlers read and write through it with no retry of their own.
 */
export const SDK_MAX_ATTEMPTS = 5;

/** Attempts the SDK makes per call, per client, where they differ from SDK_MAX_ATTEMPTS. */
export type SdkAttempts = Partial<Record<keyof AwsClients, number>>;

function common(cfg: Config) {
  // Local emulators accept any credentials; real AWS uses the SDK's default chain.
  const credentials =
    cfg.localAws && !cfg.AWS_ACCESS_KEY_ID ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined;
  return { region: cfg.AWS_REGION, credentials };
}

/** Longest an SQS request may stay silent before it is failed, in ms. */
export const SQS_REQUEST_TIMEOUT_MS = 25_000;

/** S3, SQS and Auto Scaling clients pointed at the configured endpoints; `attempts` for callers that retry by themselves. */
export function createAwsClients(cfg: Config = config(), attempts: SdkAttempts = {}): AwsClients {
  const base = common(cfg);
  const maxAttempts = (client: keyof AwsClients) => attempts[client] ?? SDK_MAX_ATTEMPTS;
  return counted({
    s3: new S3Client({ ...base, maxAttempts: maxAttempts('s3'), endpoint: cfg.endpoints.s3, forcePathStyle: cfg.endpoints.s3 !== undefined }),
    // An SQS call never legitimately waits longer than a 20 s long poll: one silent for 25 s is
    // dead (a server restarted under it), and is failed so the caller can retry.
    sqs: new SQSClient({
      ...base,
      maxAttempts: maxAttempts('sqs'),
      endpoint: cfg.endpoints.sqs,
      requestHandler: { requestTimeout: SQS_REQUEST_TIMEOUT_MS, connectionTimeout: 5000 },
    }),
    autoScaling: new AutoScalingClient({ ...base, maxAttempts: maxAttempts('autoScaling'), endpoint: cfg.endpoints.autoScaling }),
  });
}

/** Every command the clients send is counted (common/call-counts), once per command, not per SDK retry. */
function counted(clients: AwsClients): AwsClients {
  for (const [service, client] of Object.entries(clients) as [string, AwsClients[keyof AwsClients]][]) {
    (client.middlewareStack as { add(m: unknown, o: { step: 'initialize'; name: string }): void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        countCall(service, command);
        if (service !== 'sqs' || !detailedCounts()) return next(args);
        countSent(command, (args as { input?: SqsInput }).input);
        const out = next(args);
        if (command === 'ReceiveMessage') void out.then((o) => countReceived((o as { output?: { Messages?: unknown[] } }).output?.Messages), () => undefined);
        return out;
      },
      { step: 'initialize', name: 'batchgridCallCount' },
    );
  }
  return clients;
}

interface SqsInput {
  MessageBody?: string;
  Entries?: { MessageBody?: string }[];
}

/** Messages and body bytes sent: what the SQS server stores per part-stage (the benchmark's profile; only while counts are kept for a file). */
function countSent(command: string, input: SqsInput | undefined): void {
  const bodies = command === 'SendMessage' ? [input?.MessageBody] : command === 'SendMessageBatch' ? (input?.Entries ?? []).map((e) => e.MessageBody) : [];
  if (bodies.length === 0) return;
  countCall('sqs', 'messagesSent', bodies.length);
  countCall('sqs', 'bytesSent', bodies.reduce((a, b) => a + Buffer.byteLength(b ?? ''), 0));
}

/** Messages a receive brought, and receives that brought none. */
function countReceived(messages: unknown[] | undefined): void {
  if (!messages?.length) return countCall('sqs', 'emptyReceives');
  countCall('sqs', 'messagesReceived', messages.length);
}

/** The fleet worker retries its SQS and Auto Scaling calls itself (retryAws), so the SDK tries each once. */
export const FLEET_WORKER_SDK_ATTEMPTS: SdkAttempts = { sqs: 1, autoScaling: 1 };

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
