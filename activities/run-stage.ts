import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { partPrefixOf } from '../common/layout';
import { CompletionMessage, MAX_MESSAGE_BYTES, parseBody, type DeadLetter, type PartResult, type PartTask } from '../common/messages';
import { isAbortError, isQueueGone } from '../common/sqs/errors';
import { ensureCompletionQueue, ensureFleetQueues } from '../common/sqs/queues';
import type { StageDef } from '../pipeline/types';
import { withTransaction } from '../store/db';
import { claimStageRun, setStageRunStatus, stageRunnerState, stageRunStatus, TERMINAL_STAGE_STATUSES } from '../store/stage-runs';
import { applyResults, firstFailure, markQueued, openParts, setStageWaiting, stageCounts, streamResumeSeq, windowState, type FailureDecision, type StageCounts } from '../store/task-runs';
import type { ActivityDeps } from './deps';
import { claimCheckInputs } from './part-inputs';
import { ManifestSource, StreamSource, type NewPart, type PartSource } from './part-source';
import { packMessages, sendBodies } from './task-sender';
import { backoffMs, dueCount, PartWindow, shouldRetry, slotsFor, withinTolerance } from './window';

export type StageSource = { kind: 'manifest'; manifestKey: string; partsTotal: number } | { kind: 'stream'; upstream: string };

export interface RunStageInput {
  jobId: string;
  stage: StageDef;
  bucket: string;
  /** Max parts of the whole job in flight, shared by its running stages. */
  concurrency: number;
  source: StageSource;
  /** The fleet that runs the stage's parts (its queues are re-created if SQS lost them). */
  fleet: string;
  inputQueueUrl: string;
  dlqUrl: string;
  /** Parts per task message. Default: from the concurrency (1 for small windows, up to 10). */
  partsPerMessage?: number;
  /** Extra wait for a completion beyond the part timeout before the part is sent again, in ms. Default: 10 minutes. */
  overdueSlackMs?: number;
}

export interface StageResult {
  stageId: string;
  status: 'succeeded' | 'failed';
  partsTotal: number;
  succeeded: number;
  failed: number;
  retried: number;
  startedAt: number;
  finishedAt: number;
  error?: string;
}

const HEARTBEAT_MS = 1000;
const PAUSE_CHECK_MS = 1000;
const IDLE_WAIT_MS = 200;
/**
 * Completions are applied and deleted within one loop turn (well under a second). If this
 * activity dies holding some, a resumed attempt gets them back after this long: with a long
 * visibility timeout a full window would sit idle waiting for them.
 */
const COMPLETION_VISIBILITY_SECONDS = 10;
/** How long past its wait time a receive may take before it is abandoned, in ms. */
const RECEIVE_MARGIN_MS = 5000;

/** Default packing: one part per message for small windows (spread over workers), up to 10 for large ones. */
export const defaultPartsPerMessage = (concurrency: number) => Math.max(1, Math.min(10, Math.floor(concurrency / 50)));

/** Thrown when a newer attempt of the stage activity owns the stage: this one stops without writing. */
const superseded = (stageId: string, attempt: number, owner: number | null) =>
  ApplicationFailure.retryable(`stage ${stageId}: attempt ${attempt} was superseded by attempt ${owner}`, 'StageSuperseded');

/**
 * Runs one stage: keeps up to the job's concurrency parts in flight on the fleet's input queue,
 * consumes this stage run's completion queue, records results in Postgres in batches, retries
 * and times out parts, and heartbeats its counts. Its state lives in task_runs, so a retried
 * activity resumes where the last one stopped and counts nothing twice.
 *
 * Stopping is not cancelling: only a cancel the workflow requested ends the stage `cancelled`.
 * A process that stops (SIGTERM), an attempt that went stale (a frozen VM, a heartbeat timeout)
 * just ends this attempt, writing nothing; the next attempt resumes. The stage's outcome is
 * stored before this returns, and an attempt that finds it stored returns it as it is. Queues
 * are never deleted here: the workflow closes the stage once it holds the result.
 */
export function createRunStage(deps: ActivityDeps) {
  const { db, aws, log: baseLog, queuePrefix } = deps;

  return async function runStage(input: RunStageInput): Promise<StageResult> {
    const ctx = Context.current();
    const { jobId, stage } = input;
    const attempt = ctx.info.attempt;
    const log = baseLog.child({ jobId, stageId: stage.id, attempt });
    const startedAt = Date.now();
    const partsPerMessage = input.partsPerMessage ?? defaultPartsPerMessage(input.concurrency);
    const overdueSlackMs = input.overdueSlackMs ?? 10 * 60_000;
    const signal = ctx.cancellationSignal;

    const claim = await claimStageRun(db, jobId, stage.id, attempt);
    if (claim.status === 'succeeded' || claim.status === 'failed') {
      // The stage finished in an earlier attempt whose result never reached Temporal.
      log.info({ status: claim.status }, 'stage already finished; returning its stored outcome');
      return claim.summary as StageResult;
    }
    if (!claim.claimed) throw superseded(stage.id, attempt, null);
    let completionQueueUrl = await ensureCompletionQueue(aws.sqs, queuePrefix, jobId, stage.id);
    await setStageRunStatus(db, jobId, stage.id, 'running', { completionQueueUrl });
    let queues = { inputQueueUrl: input.inputQueueUrl, dlqUrl: input.dlqUrl };
    /** SQS lost a queue (a restarted or wiped server): make them all again. Never a sign of a cancel. */
    const repairQueues = async (err: unknown) => {
      log.warn({ err: (err as Error).message }, 'an SQS queue of this stage is missing; re-creating it');
      completionQueueUrl = await ensureCompletionQueue(aws.sqs, queuePrefix, jobId, stage.id);
      const fleet = await ensureFleetQueues(aws.sqs, queuePrefix, input.fleet);
      queues = { inputQueueUrl: fleet.inputQueueUrl, dlqUrl: fleet.dlqUrl };
    };

    // Rebuild the window from stored state: this may be a retry after a crash.
    const window = new PartWindow();
    const inputsOf = new Map<number, { inputs: PartTask['inputs']; inputsKey?: string }>();
    for (const p of await openParts(db, jobId, stage.id)) {
      inputsOf.set(p.part, { inputs: p.inputs, inputsKey: p.inputsKey });
      if (p.status === 'queued') window.sent(p.part, p.attempt, p.deadlineAt ?? Date.now());
      else window.waitRetry(p.part, p.attempt, p.retryAt ?? Date.now());
    }
    let counts = await stageCounts(db, jobId, stage.id);
    const source = await openSource(input, counts);
    if (ctx.info.attempt > 1) log.info({ resumedAt: counts.total, open: window.inFlightCount + window.waitingCount }, 'stage resumed');

    let paused = false;
    let lastPauseCheck = 0;
    let lastHeartbeat = 0;

    const send = async (parts: { part: number; attempt: number }[]) => {
      if (parts.length === 0) return;
      const now = Date.now();
      const tasks: PartTask[] = parts.map((p) => ({
        part: p.part,
        attempt: p.attempt,
        inputs: inputsOf.get(p.part)?.inputs ?? [],
        inputsKey: inputsOf.get(p.part)?.inputsKey,
        outputPrefix: partPrefixOf(jobId, stage.id, p.part),
      }));
      const { bodies, tooLarge } = packMessages(
        { v: 1, type: 'task', jobId, stageId: stage.id, task: stage.task, params: stage.params, bucket: input.bucket, completionQueueUrl, timeoutMs: stage.timeoutMs },
        tasks,
        partsPerMessage,
        now,
      );
      if (tooLarge.length > 0) await failTooLarge(tooLarge);
      try {
        await sendBodies(aws.sqs, queues.inputQueueUrl, bodies, signal);
      } catch (err) {
        if (!isQueueGone(err)) throw err;
        await repairQueues(err);
        await sendBodies(aws.sqs, queues.inputQueueUrl, bodies, signal);
      }
    };

    /** Parts no task message can carry fail at once, for good, saying why: retrying cannot make them fit. */
    const failTooLarge = async (parts: { part: number; attempt: number; bytes: number }[]) => {
      const paramsBytes = Buffer.byteLength(JSON.stringify(stage.params ?? null));
      const now = Date.now();
      log.error({ parts: parts.length, paramsBytes }, 'parts too large for a task message; failing them');
      await apply(
        [],
        parts.map((p) => ({
          result: {
            part: p.part, attempt: p.attempt, status: 'failed', outputs: [],
            error: {
              type: 'MessageTooLarge',
              message: `the task message of part ${p.part} is ${p.bytes} bytes, over the limit of ${MAX_MESSAGE_BYTES} bytes (stages.${stage.id}.params is ${paramsBytes} bytes)`,
              retryable: false,
            },
            sentAt: now, receivedAt: now, startedAt: now, finishedAt: now, bytesIn: 0, bytesOut: 0,
          },
          workerId: 'orchestrator',
        })),
      );
    };

    /** Reserves window slots under a per-job lock, records the parts as queued, then sends them. */
    let waitingRecorded = 0;
    const fill = async () => {
      const room = input.concurrency - window.inFlightCount;
      if (room <= 0) return;
      await source.fill(Math.min(room, 1000));
      const chosen: { part: number; attempt: number }[] = [];
      await withTransaction(db, async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`batchgrid-window:${jobId}`]);
        const now = Date.now();
        const state = await windowState(tx, jobId, stage.id);
        const slots = slotsFor(input.concurrency, state.inFlight, window.inFlightCount, state.othersWaiting);
        const ready = dueCount(window, now) + source.buffered;
        const retries = window.dueRetries(now, slots);
        const fresh: NewPart[] = source.take(slots - retries.length);
        for (const p of fresh) inputsOf.set(p.part, { inputs: p.inputs, inputsKey: p.inputsKey });
        chosen.push(...retries, ...fresh.map((p) => ({ part: p.part, attempt: 1 })));
        const waiting = ready - chosen.length;
        if (waiting !== waitingRecorded) {
          await setStageWaiting(tx, jobId, stage.id, waiting);
          waitingRecorded = waiting;
        }
        if (chosen.length === 0) return;
        const deadlineAt = now + stage.timeoutMs + overdueSlackMs;
        await markQueued(
          tx,
          jobId,
          stage.id,
          chosen.map((c) => ({ ...c, sentAt: now, deadlineAt, inputs: inputsOf.get(c.part)!.inputs, inputsKey: inputsOf.get(c.part)!.inputsKey })),
        );
        for (const c of chosen) window.sent(c.part, c.attempt, deadlineAt);
      });
      await send(chosen);
    };

    /** Turns failures into retries or final failures, by the stage's policy. */
    const decide = (result: PartResult, workerId: string): FailureDecision => {
      const retryable = result.error?.retryable ?? true;
      return { result, workerId, retryAt: shouldRetry(stage.retry, result.attempt, retryable) ? Date.now() + backoffMs(stage.retry, result.attempt) : undefined };
    };

    const apply = async (successes: { result: PartResult; workerId: string }[], failures: FailureDecision[]) => {
      const transitions = await applyResults(db, jobId, stage.id, successes, failures);
      const retryAtOf = new Map(failures.map((f) => [`${f.result.part}:${f.result.attempt}`, f.retryAt]));
      for (const t of transitions) {
        // Live counts for heartbeats only; the stage's result is counted from stored rows.
        if (t.status === 'succeeded') counts.succeeded += 1;
        if (t.status === 'failed') counts.failed += 1;
        if (t.status === 'retry_wait') window.waitRetry(t.part, t.attempt, retryAtOf.get(`${t.part}:${t.attempt}`) ?? Date.now());
        else {
          window.close(t.part);
          inputsOf.delete(t.part);
        }
      }
    };

    const receiveCompletions = async () => {
      const waitSeconds = window.inFlightCount > 0 ? 1 : 0;
      const lanes = Math.min(4, Math.max(1, Math.ceil(window.inFlightCount / 200)));
      // A receive that never answers (a server restarted or a queue deleted under it) is abandoned after its wait plus a margin.
      const timeout = AbortSignal.any([signal, AbortSignal.timeout(waitSeconds * 1000 + RECEIVE_MARGIN_MS)]);
      const receive = () =>
        aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: completionQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, VisibilityTimeout: COMPLETION_VISIBILITY_SECONDS }),
          { abortSignal: timeout },
        );
      let batches: Awaited<ReturnType<typeof receive>>[];
      try {
        batches = await Promise.all(Array.from({ length: lanes }, receive));
      } catch (err) {
        if (!signal.aborted && isAbortError(err)) return;
        if (!isQueueGone(err)) throw err;
        await repairQueues(err);
        return;
      }
      const messages: Message[] = batches.flatMap((b) => b.Messages ?? []);
      if (messages.length === 0) return;
      const successes: { result: PartResult; workerId: string }[] = [];
      const failures: FailureDecision[] = [];
      for (const m of messages) {
        const parsed = parseBody(CompletionMessage, m.Body);
        if (!parsed.ok || parsed.value.jobId !== jobId || parsed.value.stageId !== stage.id) {
          const reason = parsed.ok ? `completion for ${parsed.value.jobId}/${parsed.value.stageId} arrived on the queue of ${jobId}/${stage.id}` : parsed.reason;
          log.warn({ reason }, 'invalid completion message dead-lettered');
          const letter: DeadLetter = { reason, body: m.Body ?? '', queueUrl: completionQueueUrl, workerId: 'orchestrator', at: Date.now() };
          const toDlq = () => aws.sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: JSON.stringify(letter) }));
          await toDlq().catch(async (err: unknown) => {
            if (!isQueueGone(err)) throw err;
            await repairQueues(err);
            await toDlq();
          });
          continue;
        }
        for (const r of parsed.value.results) {
          if (r.status === 'succeeded') successes.push({ result: r, workerId: parsed.value.workerId });
          else failures.push(decide(r, parsed.value.workerId));
        }
      }
      await apply(successes, failures);
      // Delete only after the results are committed: a crash before this line replays them, harmlessly.
      const deletions: Message[][] = [];
      for (let i = 0; i < messages.length; i += 10) deletions.push(messages.slice(i, i + 10));
      await Promise.all(
        deletions.map((batch) =>
          aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: completionQueueUrl, Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) })),
        ),
      );
    };

    /** Parts whose completion never came (lost message, dead worker past every redelivery): fail the attempt as timed out. */
    const expireOverdue = async () => {
      const now = Date.now();
      const overdue = window.overdue(now);
      if (overdue.length === 0) return;
      log.warn({ parts: overdue.length }, 'parts overdue; failing their attempts as timed out');
      const failures = overdue.map((o) =>
        decide(
          {
            part: o.part,
            attempt: o.attempt,
            status: 'failed',
            outputs: [],
            error: { type: 'TimeoutError', message: `no completion within ${stage.timeoutMs + overdueSlackMs} ms of sending`, retryable: true },
            sentAt: now,
            receivedAt: now,
            startedAt: now,
            finishedAt: now,
            bytesIn: 0,
            bytesOut: 0,
          },
          'orchestrator',
        ),
      );
      await apply([], failures);
    };

    const heartbeat = (force = false) => {
      if (!force && Date.now() - lastHeartbeat < HEARTBEAT_MS) return;
      lastHeartbeat = Date.now();
      ctx.heartbeat({ cursor: source.produced, inFlight: window.inFlightCount, retrying: window.waitingCount, succeeded: counts.succeeded, failed: counts.failed, paused });
    };

    try {
      if (ctx.info.attempt > 1) {
        // The last attempt may have died between recording parts as queued and sending them: send
        // every open part again, same attempt. A duplicate delivery is counted once.
        const open = window.inFlightParts();
        log.info({ parts: open.length }, 'resending the parts in flight when the last attempt stopped');
        await send(open);
      }
      for (;;) {
        if (signal.aborted) throw signal.reason;
        if (Date.now() - lastPauseCheck >= PAUSE_CHECK_MS) {
          lastPauseCheck = Date.now();
          const state = await stageRunnerState(db, jobId, stage.id);
          if (state.runnerAttempt !== null && state.runnerAttempt > attempt) throw superseded(stage.id, attempt, state.runnerAttempt);
          paused = state.jobStatus === 'paused';
        }
        await receiveCompletions();
        await expireOverdue();
        if (!paused) await fill();
        heartbeat();
        if (source.exhausted && window.empty) break;
        if (window.inFlightCount === 0) {
          // Nothing to wait on in SQS: sleep until the next retry is due or new stream parts may have arrived.
          const until = Math.min(window.nextRetryAt() ?? Infinity, Date.now() + IDLE_WAIT_MS);
          await sleep(Math.max(10, until - Date.now()), undefined, { signal }).catch(() => undefined);
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
      const why = ctx.cancellationDetails;
      if (why?.cancelRequested) {
        // The workflow asked: its job was cancelled, or another stage failed.
        log.info('stage cancelled by its job: abandoning parts in flight');
        await setStageRunStatus(db, jobId, stage.id, 'cancelled', { finishedAt: new Date() });
        throw err instanceof CancelledFailure ? err : new CancelledFailure('stage cancelled');
      }
      const reason = why?.workerShutdown ? 'the orchestrator is shutting down' : why?.timedOut || why?.notFound ? 'its heartbeat timed out (a newer attempt takes over)' : 'it was interrupted';
      log.info({ reason }, 'stage attempt stopped; the stage goes on in the next attempt');
      throw ApplicationFailure.retryable(`stage ${stage.id}: attempt ${attempt} stopped because ${reason}`, 'StageInterrupted');
    }

    counts = await stageCounts(db, jobId, stage.id);
    heartbeat(true);
    const ok = withinTolerance(stage.tolerate, counts.failed, counts.total);
    const first = ok ? undefined : await firstFailure(db, jobId, stage.id);
    const error = ok ? undefined : `${counts.failed} of ${counts.total} parts failed, beyond the stage's tolerance (part ${first?.part}: ${first?.error?.message ?? 'unknown error'})`;
    const result: StageResult = {
      stageId: stage.id,
      status: ok ? 'succeeded' : 'failed',
      partsTotal: counts.total,
      succeeded: counts.succeeded,
      failed: counts.failed,
      retried: counts.retried,
      startedAt,
      finishedAt: Date.now(),
      error,
    };
    // Durable before it is returned: if the result is lost on its way to Temporal, the next attempt returns this.
    await setStageRunStatus(db, jobId, stage.id, result.status, { finishedAt: new Date(), partsTotal: counts.total, summary: result, error });
    log.info({ ...result }, 'stage finished');
    return result;
  };

  async function openSource(input: RunStageInput, counts: StageCounts): Promise<PartSource> {
    if (input.source.kind === 'manifest') return new ManifestSource(aws.s3, input.bucket, input.source.manifestKey, counts.total);
    const upstream = input.source.upstream;
    const resumeSeq = await streamResumeSeq(db, input.jobId, upstream, input.stage.id);
    return new StreamSource(
      db,
      input.jobId,
      upstream,
      resumeSeq,
      counts.total,
      async () => TERMINAL_STAGE_STATUSES.includes((await stageRunStatus(db, input.jobId, upstream)) ?? 'pending'),
      (part, inputs) => claimCheckInputs(aws.s3, input.bucket, input.jobId, input.stage.id, part, inputs),
    );
  }
}
