import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../common/aws';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { config, loadConfig } from '../../common/config';
import { ensureStack, type StackResult } from '../../manager/devstack';
import { pollUntil } from '../../manager/devstack/wait';

let stack: Promise<StackResult> | undefined;
/** Starts (or, usually, just finds) the local stack once per test process, with both SQS servers. */
export function ensureTestStack(): Promise<StackResult> {
  stack ??= ensureStack({ sqsBackend: 'elasticmq' });
  return stack;
}

/** `prefix-<8 hex>`: a name no other test (or run) uses. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** AWS clients from common/aws for the configuration with `env` overriding the process environment; `close()` destroys them. */
export function awsClients(env: NodeJS.ProcessEnv = {}): AwsClients & { close(): void } {
  const clients = createAwsClients(loadConfig({ ...process.env, ...env }));
  return { ...clients, close: () => destroyAwsClients(clients) };
}

/** Creates a queue; `cleanup()` deletes it (and never throws, so it is safe in afterEach). */
export async function createTestQueue(sqs: SQSClient, name: string, attributes?: Record<string, string>): Promise<{ url: string; cleanup(): Promise<void> }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  return { url: QueueUrl, cleanup: () => sqs.send(new DeleteQueueCommand({ QueueUrl })).then(() => undefined, () => undefined) };
}

/** The promise's value, or an error naming `what` after timeoutMs. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls predicate until it holds; throws after timeoutMs (default 10000) polling every intervalMs (default 100). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(await pollUntil(async () => predicate(), { timeoutMs, intervalMs: options.intervalMs ?? 100 }))) {
    throw new Error(`${options.what ?? 'condition'} not met within ${timeoutMs} ms`);
  }
}

/**
 * Polls `probe` until it returns something truthy and returns that; throws naming `what` after
 * `timeoutMs` (default 60000), polling every `intervalMs` (default 100).
 */
export async function waitForValue<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

let sdkLogsQuiet = false;

/**
 * Installs the Temporal SDK runtime with a WARN logger, once per test file, before its first
 * worker: the SDK's INFO lines (bundles, worker states) drown test output; warnings still show.
 */
export function quietSdkLogs(): void {
  if (sdkLogsQuiet) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  sdkLogsQuiet = true;
}

/**
 * Runs `fn` with a Temporal client while an in-process worker serves `workflowsPath` and
 * `activities` on `taskQueue`; closes both connections afterwards.
 */
export async function withInProcessWorker<T>(
  options: { taskQueue: string; workflowsPath: string; activities: object },
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  quietSdkLogs();
  const cfg = config();
  const nativeConnection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({ connection: nativeConnection, namespace: cfg.TEMPORAL_NAMESPACE, ...options });
    const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
    return await worker.runUntil(() => fn(client));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}
