import { Context } from '@temporalio/activity';
import { DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { CancelledFailure } from '@temporalio/common';
import { CompletionMessage, parseBody, type DeadLetter, type PartResult, type PartTask } from '../common/messages';
import type { StageDef } from '../pipeline/types';
import { withTransaction } from '../store/db';
import { getJob } from '../store/jobs';
import { setStageRunStatus } from '../store/stage-runs';
import { applyResults, firstFailure, markQueued, openParts, setStageWaiting, stageCounts, streamResumeSeq, windowState, type FailureDecision, type StageCounts } from '../store/task-runs';
import type { ActivityDeps } from './deps';
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
  inputQueueUrl: string;
  completionQueueUrl: string;
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

const FINAL_STAGE_STATUSES = ['succeeded', 'failed', 'cancelled'];
const HEARTBEAT_MS = 1000;
const PAUSE_CHECK_MS = 1000;
const IDLE_WAIT_MS = 200;
/**
 * Completions are applied and deleted within one loop turn (well under a second). If this
 * activity dies holding some, a resumed attempt gets them back after this long: with a long
 * visibility timeout a full window would sit idle waiting for them.
 */
const COMPLETION_VISIBILITY_SECONDS = 10;

/** Default packing: one part per message for small windows (spread over workers), up to 10 for large ones. */
export const defaultPartsPerMessage = (concurrency: number) => Math.max(1, Math.min(10, Math.floor(concurrency / 50)));

/**
 * Runs one stage: keeps up to the job's concurrency parts in flight on the fleet's input queue,
 * consumes this stage run's completion queue, records results in Postgres in batches, retries
 * and times out parts, and heartbeats its counts. Its state lives in task_runs, so a retried
 * activity resumes where the last one stopped and counts nothing twice.
 */
export function createRunStage(deps: ActivityDeps) {
  const { db, aws, log: baseLog } = deps;

  return async function runStage(input: RunStageInput): Promise<StageResult> {
    const ctx = Context.current();
    const { jobId, stage } = input;
    const log = baseLog.child({ jobId, stageId: stage.id, attempt: ctx.info.attempt });
    const startedAt = Date.now();
    const partsPerMessage = input.partsPerMessage ?? defaultPartsPerMessage(input.concurrency);
    const overdueSlackMs = input.overdueSlackMs ?? 10 * 60_000;
    const signal = ctx.cancellationSignal;

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
        outputPrefix: `jobs/${jobId}/stages/${stage.id}/parts/${p.part}/`,
      }));
      const bodies = packMessages(
        { v: 1, type: 'task', jobId, stageId: stage.id, task: stage.task, params: stage.params, bucket: input.bucket, completionQueueUrl: input.completionQueueUrl, timeoutMs: stage.timeoutMs },
        tasks,
        partsPerMessage,
        now,
      );
      await sendBodies(aws.sqs, input.inputQueueUrl, bodies, signal);
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
      const batches = await Promise.all(
        Array.from({ length: lanes }, () =>
          aws.sqs.send(
            new ReceiveMessageCommand({ QueueUrl: input.completionQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, VisibilityTimeout: COMPLETION_VISIBILITY_SECONDS }),
            { abortSignal: signal },
          ),
        ),
      );
      const messages: Message[] = batches.flatMap((b) => b.Messages ?? []);
      if (messages.length === 0) return;
      const successes: { result: PartResult; workerId: string }[] = [];
      const failures: FailureDecision[] = [];
      for (const m of messages) {
        const parsed = parseBody(CompletionMessage, m.Body);
        if (!parsed.ok || parsed.value.jobId !== jobId || parsed.value.stageId !== stage.id) {
          const reason = parsed.ok ? `completion for ${parsed.value.jobId}/${parsed.value.stageId} arrived on the queue of ${jobId}/${stage.id}` : parsed.reason;
          log.warn({ reason }, 'invalid completion message dead-lettered');
          const letter: DeadLetter = { reason, body: m.Body ?? '', queueUrl: input.completionQueueUrl, workerId: 'orchestrator', at: Date.now() };
          await aws.sqs.send(new SendMessageCommand({ QueueUrl: input.dlqUrl, MessageBody: JSON.stringify(letter) }));
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
          aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: input.completionQueueUrl, Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) })),
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
        if (signal.aborted) throw new CancelledFailure('stage cancelled');
        if (Date.now() - lastPauseCheck >= PAUSE_CHECK_MS) {
          lastPauseCheck = Date.now();
          const job = await getJob(db, jobId);
          paused = job?.status === 'paused';
        }
        await receiveCompletions();
        await expireOverdue();
        if (!paused) await fill();
        heartbeat();
        if (source.exhausted && window.empty) break;
        if (window.inFlightCount === 0) {
          // Nothing to wait on in SQS: sleep until the next retry is due or new stream parts may have arrived.
          const until = Math.min(window.nextRetryAt() ?? Infinity, Date.now() + IDLE_WAIT_MS);
          await sleep(Math.max(10, until - Date.now()), signal);
        }
      }
    } catch (err) {
      if (signal.aborted) {
        log.info('stage cancelled: abandoning parts in flight');
        await setStageRunStatus(db, jobId, stage.id, 'cancelled', { finishedAt: new Date() });
        await deleteQueue(input.completionQueueUrl);
        throw err instanceof CancelledFailure ? err : new CancelledFailure('stage cancelled');
      }
      throw err;
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
    await setStageRunStatus(db, jobId, stage.id, result.status, { finishedAt: new Date(), partsTotal: counts.total, summary: result, error });
    await deleteQueue(input.completionQueueUrl);
    log.info({ ...result }, 'stage finished');
    return result;
  };

  async function deleteQueue(url: string) {
    await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((err: unknown) => baseLog.warn({ err, url }, 'could not delete completion queue'));
  }

  async function openSource(input: RunStageInput, counts: StageCounts): Promise<PartSource> {
    if (input.source.kind === 'manifest') return new ManifestSource(aws.s3, input.bucket, input.source.manifestKey, counts.total);
    const upstream = input.source.upstream;
    const resumeSeq = await streamResumeSeq(db, input.jobId, upstream, input.stage.id);
    return new StreamSource(db, input.jobId, upstream, resumeSeq, counts.total, async () => {
      const r = await db.query('SELECT status FROM stage_runs WHERE job_id = $1 AND stage_id = $2', [input.jobId, upstream]);
      return FINAL_STAGE_STATUSES.includes(r.rows[0]?.status);
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

