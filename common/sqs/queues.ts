import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { completionQueueName, fleetDlqName, fleetEventsQueueName, fleetQueueName } from '../aws';
import { isQueueGone } from './errors';

/** The queues of one fleet. */
export interface FleetQueues {
  /** Task messages from orchestrators to the fleet's workers. */
  inputQueueUrl: string;
  /** Malformed task messages (a DeadLetter body) and messages received too often (their original body). */
  dlqUrl: string;
  /** WorkerEvents (start, heartbeat, stop) from the fleet's workers. */
  eventsQueueUrl: string;
}

/** Retention of the input queue and its DLQ: 14 days (SQS's maximum), in seconds. */
export const FLEET_RETENTION_SECONDS = 14 * 24 * 3600;
/** Deliveries of a task message before SQS moves it to the DLQ. */
export const FLEET_MAX_RECEIVE_COUNT = 10;
/** Default visibility timeout of the input queue, in seconds; workers extend it while parts run. */
export const FLEET_VISIBILITY_TIMEOUT_SECONDS = 60;
/** Retention of worker events, in seconds (1 day): they are statistics, stale ones are worthless. */
export const FLEET_EVENTS_RETENTION_SECONDS = 24 * 3600;

/**
 * Creates the fleet's input queue, its DLQ and its events queue if they do not exist, and returns
 * their URLs. Idempotent: called by every worker at start and by the orchestrator before a stage.
 * The input queue redrives to the DLQ after FLEET_MAX_RECEIVE_COUNT deliveries. A queue that
 * exists with other attributes (e.g. tuned by an operator) is used as it is.
 */
export async function ensureFleetQueues(sqs: SQSClient, prefix: string, fleet: string): Promise<FleetQueues> {
  const dlqUrl = await createQueue(sqs, fleetDlqName(prefix, fleet), { MessageRetentionPeriod: String(FLEET_RETENTION_SECONDS) });
  const arn = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const dlqArn = arn.Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`SQS returned no QueueArn for ${dlqUrl}`);
  const inputQueueUrl = await createQueue(sqs, fleetQueueName(prefix, fleet), {
    VisibilityTimeout: String(FLEET_VISIBILITY_TIMEOUT_SECONDS),
    MessageRetentionPeriod: String(FLEET_RETENTION_SECONDS),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: FLEET_MAX_RECEIVE_COUNT }),
  });
  const eventsQueueUrl = await createQueue(sqs, fleetEventsQueueName(prefix, fleet), { MessageRetentionPeriod: String(FLEET_EVENTS_RETENTION_SECONDS) });
  return { inputQueueUrl, dlqUrl, eventsQueueUrl };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const r = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!r.QueueUrl) throw new Error(`SQS returned no QueueUrl for ${name}`);
    return r.QueueUrl;
  } catch (err) {
    // Exists with different attributes: use it rather than fight over settings.
    const code = (err as { name?: string; Code?: string }).name;
    if (code !== 'QueueNameExists' && code !== 'QueueAlreadyExists' && (err as { Code?: string }).Code !== 'QueueAlreadyExists') throw err;
    const r = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!r.QueueUrl) throw new Error(`SQS returned no QueueUrl for ${name}`, { cause: err });
    return r.QueueUrl;
  }
}

/** Attributes of a stage run's completion queue: short visibility (the stage loop deletes what it applied), 14 days' retention. */
const COMPLETION_QUEUE_ATTRIBUTES = { VisibilityTimeout: '60', MessageRetentionPeriod: String(FLEET_RETENTION_SECONDS) };

/** The queue name in an SQS queue URL (its last path segment, on AWS and on the local servers alike). */
export function queueNameOf(queueUrl: string): string {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).pop();
  if (!name) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  return name;
}

/**
 * Creates a stage run's completion queue if it does not exist and returns its URL. Idempotent:
 * the stage activity calls it on every attempt and whenever SQS says the queue is missing (a
 * restarted or wiped SQS server), so a missing queue is repaired, never taken for a cancel.
 */
export function ensureCompletionQueue(sqs: SQSClient, prefix: string, jobId: string, stageId: string): Promise<string> {
  return createQueue(sqs, completionQueueName(prefix, jobId, stageId), COMPLETION_QUEUE_ATTRIBUTES);
}

/** Recreates a completion queue known only by its URL (the fleet side); returns the URL SQS gives it. */
export function ensureCompletionQueueAt(sqs: SQSClient, queueUrl: string): Promise<string> {
  return createQueue(sqs, queueNameOf(queueUrl), COMPLETION_QUEUE_ATTRIBUTES);
}

/** Deletes a stage run's completion queue, if it exists. */
export async function deleteCompletionQueue(sqs: SQSClient, prefix: string, jobId: string, stageId: string): Promise<void> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: completionQueueName(prefix, jobId, stageId) }))).QueueUrl;
  } catch (err) {
    if (isQueueGone(err)) return;
    throw err;
  }
  if (url) await deleteQueueIfExists(sqs, url);
}

/** Deletes a queue; one that is already gone is fine. */
export async function deleteQueueIfExists(sqs: SQSClient, queueUrl: string): Promise<void> {
  try {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  } catch (err) {
    if (!isQueueGone(err)) throw err;
  }
}
