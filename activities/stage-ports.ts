import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { Pool } from 'pg';
import type { AwsClients } from '../common/aws';
import type { Logger } from '../common/logger';
import { parseBody, StageRunMessage, type DeadLetter, type TaskMessage } from '../common/messages';
import { runLanes } from '../common/concurrency';
import { isAbortError, isQueueGone } from '../common/sqs/errors';
import { retryAws } from '../common/sqs/retry';
import { ensureCompletionQueue, ensureFleetQueues } from '../common/sqs/queues';
import { withTransaction } from '../store/db';
import { stageRunnerState } from '../store/stage-runs';
import { applyResults, lockJobWindow, markQueued, markStarted, openParts, setStageWaiting, stageCounts, windowState } from '../store/task-runs';
import { StageSupersededError, type Clock, type CompletionReceiver, type ReceivedResult, type ReceivedStart, type StageStore, type TaskSender } from './stage-loop';
import { packMessages, sendBodies, type MessageHeader } from './task-sender';

/** The stage loop's I/O on the real services: Postgres for its state, SQS for its messages. */

/** The wall clock, with abortable sleeps. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
};

/**
 * A stage run's state in Postgres (task_runs, stage_runs), the window lock included. Every write
 * is fenced by `attempt`: once a newer attempt owns the stage run, a write changes nothing and
 * throws StageSupersededError (docs/engine.md, "Stopping is not cancelling").
 */
export function postgresStageStore(db: Pool, jobId: string, stageId: string, attempt: number): StageStore {
  let waitingRecorded = 0;
  const fenced = async <T>(written: T | null | false): Promise<T> => {
    if (written !== null && written !== false) return written;
    const { runnerAttempt } = await stageRunnerState(db, jobId, stageId);
    throw new StageSupersededError(stageId, attempt, runnerAttempt);
  };
  return {
    openParts: () => openParts(db, jobId, stageId),
    counts: () => stageCounts(db, jobId, stageId),
    runnerState: () => stageRunnerState(db, jobId, stageId),
    applyResults: async (successes, failures) => fenced(await applyResults(db, jobId, stageId, successes, failures, attempt)),
    markStarted: async (notices) => fenced(await markStarted(db, jobId, stageId, notices, attempt)),
    requeue: async (parts) => void (await fenced(await markQueued(db, jobId, stageId, parts, attempt))),
    reserve: (choose) =>
      withTransaction(db, async (tx) => {
        await lockJobWindow(tx, jobId);
        const { parts, waiting } = choose(await windowState(tx, jobId, stageId));
        if (waiting !== waitingRecorded) {
          await setStageWaiting(tx, jobId, stageId, waiting);
          waitingRecorded = waiting;
        }
        await fenced(await markQueued(tx, jobId, stageId, parts, attempt));
        return parts;
      }),
  };
}

/**
 * The queues of a stage run, re-created whenever SQS says one is missing (a restarted or wiped
 * server): a missing queue is repaired, never taken for a cancel.
 */
export class StageQueues {
  private constructor(
    private readonly deps: { aws: AwsClients; queuePrefix: string; log: Logger; jobId: string; stageId: string; fleet: string },
    public completionQueueUrl: string,
    public inputQueueUrl: string,
    public dlqUrl: string,
  ) {}

  /** Ensures the completion queue (the fleet's queues are known from planning). */
  static async open(deps: StageQueues['deps'], fleetQueues: { inputQueueUrl: string; dlqUrl: string }): Promise<StageQueues> {
    const completionQueueUrl = await ensureCompletionQueue(deps.aws.sqs, deps.queuePrefix, deps.jobId, deps.stageId);
    return new StageQueues(deps, completionQueueUrl, fleetQueues.inputQueueUrl, fleetQueues.dlqUrl);
  }

  async repair(err: unknown): Promise<void> {
    const { aws, queuePrefix, log, jobId, stageId, fleet } = this.deps;
    log.warn({ err: (err as Error).message }, 'an SQS queue of this stage is missing; re-creating it');
    this.completionQueueUrl = await ensureCompletionQueue(aws.sqs, queuePrefix, jobId, stageId);
    const f = await ensureFleetQueues(aws.sqs, queuePrefix, fleet);
    this.inputQueueUrl = f.inputQueueUrl;
    this.dlqUrl = f.dlqUrl;
  }

  private inputQueueMadeAt?: number;

  /**
   * When the fleet's input queue was made (SQS's CreatedTimestamp, in epoch ms) if that changed
   * since the last call: the queue was deleted and made again, and its messages are gone.
   */
  async inputQueueRemadeAt(): Promise<number | undefined> {
    const r = await this.repairing(() => this.deps.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.inputQueueUrl, AttributeNames: ['CreatedTimestamp'] })));
    const seconds = Number(r.Attributes?.CreatedTimestamp);
    if (!Number.isFinite(seconds)) return undefined;
    const madeAt = seconds * 1000;
    const before = this.inputQueueMadeAt;
    this.inputQueueMadeAt = madeAt;
    return before !== undefined && madeAt > before ? madeAt : undefined;
  }

  /** Runs `call`; when its queue is missing, repairs the queues and runs it once more. */
  async repairing<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!isQueueGone(err)) throw err;
      await this.repair(err);
      return call();
    }
  }
}

/** Sends parts packed several to a task message, to the fleet's input queue. */
export function sqsTaskSender(o: { aws: AwsClients; queues: StageQueues; header: Omit<MessageHeader, 'completionQueueUrl'>; partsPerMessage: number; clock: Clock; signal: AbortSignal }): TaskSender {
  return {
    async send(parts) {
      const { bodies, tooLarge } = packMessages({ ...o.header, completionQueueUrl: o.queues.completionQueueUrl } as TaskMessage, parts, o.partsPerMessage, o.clock.now());
      await o.queues.repairing(() => sendBodies(o.aws.sqs, o.queues.inputQueueUrl, bodies, o.signal));
      return tooLarge;
    },
    lostBefore: () => o.queues.inputQueueRemadeAt(),
  };
}

/** Attempts of one completion deletion (with backoff), before the stage loop lets the error end this attempt. */
const DELETE_ATTEMPTS = 5;

/** How long a received completion stays invisible: a resumed attempt gets back what a dead one held after this, in seconds. */
const COMPLETION_VISIBILITY_SECONDS = 10;
/** How long past its wait time a receive may take before it is abandoned, in ms. */
const RECEIVE_MARGIN_MS = 5000;

/**
 * Receives a stage run's completion messages. Messages that are malformed or belong to another
 * stage run are dead-lettered with their reason; the rest are deleted by `settle()`.
 */
export function sqsCompletionReceiver(o: { aws: AwsClients; queues: StageQueues; jobId: string; stageId: string; log: Logger; signal: AbortSignal }): CompletionReceiver {
  const { sqs } = o.aws;
  const nothing = { results: [], started: [], settle: async () => undefined };
  // Batched deletes with the same retry layer as the fleet's (retryAws); a deletion that still
  // fails only means the completion comes back after its visibility timeout and is applied again, harmlessly.
  const deleteAll = async (queueUrl: string, messages: Message[]) => {
    const batches: Message[][] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
    await Promise.all(
      batches.map((batch) =>
        retryAws('DeleteMessageBatch(completions)', () => sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) })), {
          log: o.log,
          maxAttempts: DELETE_ATTEMPTS,
          signal: o.signal,
        }),
      ),
    );
  };
  const deadLetter = async (m: Message, reason: string) => {
    o.log.warn({ reason }, 'invalid completion message dead-lettered');
    const letter: DeadLetter = { reason, body: m.Body ?? '', queueUrl: o.queues.completionQueueUrl, workerId: 'orchestrator', at: Date.now() };
    await o.queues.repairing(() => sqs.send(new SendMessageCommand({ QueueUrl: o.queues.dlqUrl, MessageBody: JSON.stringify(letter) })));
  };
  return {
    async receive(waitSeconds, lanes, signal) {
      const queueUrl = o.queues.completionQueueUrl;
      // A receive that never answers (a server restarted or a queue deleted under it) is abandoned after its wait plus a margin.
      const abortSignal = AbortSignal.any([o.signal, AbortSignal.timeout(waitSeconds * 1000 + RECEIVE_MARGIN_MS), ...(signal ? [signal] : [])]);
      const receive = (wait: number) =>
        sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: COMPLETION_VISIBILITY_SECONDS }), { abortSignal });
      let messages: Message[];
      try {
        // One long poll; only when it comes back full do the other lanes take what is already
        // waiting (no wait). Lanes that all long-polled made every receive wait for its slowest
        // lane, up to the wait time, while completions sat in the others (docs/engine.md, "Where the time goes").
        const first = (await receive(waitSeconds)).Messages ?? [];
        const more = first.length === 10 && lanes > 1 ? (await runLanes(lanes - 1, () => receive(0))).flatMap((b) => b.Messages ?? []) : [];
        messages = [...first, ...more];
      } catch (err) {
        if (o.signal.aborted) throw err;
        if (isAbortError(err)) return nothing;
        if (!isQueueGone(err)) throw err;
        await o.queues.repair(err);
        return nothing;
      }
      const results: ReceivedResult[] = [];
      const started: ReceivedStart[] = [];
      for (const m of messages) {
        const parsed = parseBody(StageRunMessage, m.Body);
        if (!parsed.ok || parsed.value.jobId !== o.jobId || parsed.value.stageId !== o.stageId) {
          await deadLetter(m, parsed.ok ? `${parsed.value.type} message for ${parsed.value.jobId}/${parsed.value.stageId} arrived on the queue of ${o.jobId}/${o.stageId}` : parsed.reason);
          continue;
        }
        const { workerId } = parsed.value;
        if (parsed.value.type === 'started') for (const p of parsed.value.parts) started.push({ ...p, workerId });
        else for (const result of parsed.value.results) results.push({ result, workerId });
      }
      return { results, started, settle: () => deleteAll(queueUrl, messages) };
    },
  };
}
