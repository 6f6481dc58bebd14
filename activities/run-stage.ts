import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { partAttemptPrefixOf, partPrefixOf, partWonKeyOf } from '../common/layout';
import { FLEET_RETENTION_SECONDS } from '../common/sqs/queues';
import type { StageDef } from '../pipeline/types';
import { jobTolerance } from '../store/jobs';
import { claimStageRun, setStageRunStatus, stageRunnerState, stageRunStatus, TERMINAL_STAGE_STATUSES } from '../store/stage-runs';
import { firstFailure, streamResumeSeq, type StageCounts } from '../store/task-runs';
import type { ActivityDeps } from './deps';
import { DEFAULT_QUEUE_AHEAD_MS, postgresFleetShare } from './fleet-share';
import { claimCheckInputs } from './part-inputs';
import { createPartCache } from './part-cache';
import { stageCacheCounts, type CacheCounts } from '../store/part-cache';
import { ManifestSource, StreamSource, type PartSource } from './part-source';
import { runStageLoop, StageSupersededError } from './stage-loop';
import { postgresStageStore, sqsCompletionReceiver, sqsTaskSender, StageQueues, systemClock } from './stage-ports';
import { withinTolerance } from './window';

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
  /** The lost-message slack past a started part's timeout, in ms (see BatchJobOptions). Default: DEFAULT_LOST_MESSAGE_SLACK_MS. */
  overdueSlackMs?: number;
  /** How much work the fleet's queue may hold ahead of its workers, in ms (see BatchJobOptions). Default: DEFAULT_QUEUE_AHEAD_MS. */
  queueAheadMs?: number;
  /** The pipeline's name: what the part cache files a stage's entries under (`batchgrid cache clear --pipeline`). */
  pipelineName?: string;
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
  /** A stage with `cache: true`: parts reused, parts run, and the run time the reused ones saved. */
  cache?: CacheCounts;
}

/** Default lost-message slack: a started part's completion may be this late past its timeout before the attempt is failed as timed out, in ms. */
export const DEFAULT_LOST_MESSAGE_SLACK_MS = 2 * 60_000;

/** Default packing: one part per message for small windows (spread over workers), up to 10 for large ones. */
export const defaultPartsPerMessage = (concurrency: number) => Math.max(1, Math.min(10, Math.floor(concurrency / 50)));

/** A newer attempt owns the stage: this one ends, retryable, having written nothing more (Temporal discards its result anyway). */
const superseded = (err: StageSupersededError) => ApplicationFailure.retryable(err.message, 'StageSuperseded');

/**
 * Runs one stage: keeps up to the job's concurrency parts in flight on the fleet's input queue,
 * consumes this stage run's completion queue, records results in Postgres in batches, retries
 * and times out parts, and heartbeats its counts (the decisions are in stage-loop.ts). Its state
 * lives in task_runs, so a retried activity resumes where the last one stopped and counts
 * nothing twice.
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
    const signal = ctx.cancellationSignal;

    const claim = await claimStageRun(db, jobId, stage.id, attempt);
    if (claim.status === 'succeeded' || claim.status === 'failed') {
      // The stage finished in an earlier attempt whose result never reached Temporal.
      log.info({ status: claim.status }, 'stage already finished; returning its stored outcome');
      return claim.summary as StageResult;
    }
    if (!claim.claimed) throw superseded(new StageSupersededError(stage.id, attempt, null));
    const queues = await StageQueues.open({ aws, queuePrefix, log, jobId, stageId: stage.id, fleet: input.fleet }, input);
    await setStageRunStatus(db, jobId, stage.id, 'running', { completionQueueUrl: queues.completionQueueUrl });

    let counts: StageCounts;
    try {
      counts = await runStageLoop({
        jobId,
        stage,
        attempt,
        concurrency: input.concurrency,
        overdueSlackMs: input.overdueSlackMs ?? DEFAULT_LOST_MESSAGE_SLACK_MS,
        unstartedDeadlineMs: FLEET_RETENTION_SECONDS * 1000,
        cache: stage.cache
          ? createPartCache({ db, s3: aws.s3, bucket: input.bucket, queuePrefix, fleet: input.fleet, jobId, pipelineName: input.pipelineName ?? jobId, stage, log })
          : undefined,
        fleetShare: postgresFleetShare(db, { jobId, stageId: stage.id, fleet: input.fleet, queueAheadMs: input.queueAheadMs ?? DEFAULT_QUEUE_AHEAD_MS }),
        outputPrefix: (part, attempt) => (attempt === undefined ? partPrefixOf(jobId, stage.id, part) : partAttemptPrefixOf(jobId, stage.id, part, attempt)),
        markWon: (won) => markWon(input.bucket, jobId, stage.id, won, log),
        store: postgresStageStore(db, jobId, stage.id, attempt),
        receiver: sqsCompletionReceiver({ aws, queues, jobId, stageId: stage.id, log, signal }),
        sender: sqsTaskSender({
          aws,
          queues,
          header: { v: 1, type: 'task', jobId, stageId: stage.id, task: stage.task, params: stage.params, bucket: input.bucket, timeoutMs: stage.timeoutMs, ...(stage.speculate ? { speculative: true } : {}) },
          partsPerMessage: input.partsPerMessage ?? defaultPartsPerMessage(input.concurrency),
          clock: systemClock,
          signal,
        }),
        openSource: (c) => openSource(input, c),
        clock: systemClock,
        signal,
        heartbeat: (progress) => ctx.heartbeat(progress),
        log,
      });
    } catch (err) {
      if (err instanceof StageSupersededError) throw superseded(err);
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

    // `batchgrid tune --tolerate` replaces every stage's tolerance while the job runs.
    const ok = withinTolerance((await jobTolerance(db, jobId)) ?? stage.tolerate, counts.failed, counts.total);
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
      ...(stage.cache ? { cache: await stageCacheCounts(db, jobId, stage.id) } : {}),
    };
    // Durable before it is returned: if the result is lost on its way to Temporal, the next attempt returns this.
    const stored = await setStageRunStatus(db, jobId, stage.id, result.status, { finishedAt: new Date(), partsTotal: counts.total, summary: result, error, owner: attempt });
    if (!stored) {
      // A newer attempt owns the stage (this one was frozen past its heartbeat): its outcome is the stage's, not this one's.
      const { runnerAttempt } = await stageRunnerState(db, jobId, stage.id);
      if (runnerAttempt !== attempt) throw superseded(new StageSupersededError(stage.id, attempt, runnerAttempt));
    }
    log.info({ ...result }, 'stage finished');
    return result;
  };

  /**
   * Writes the won marker of each part that had a backup attempt, for the worker still running the
   * other one to abort it. Best effort: a marker not written only lets the loser run to its end,
   * and its completion changes nothing.
   */
  async function markWon(bucket: string, jobId: string, stageId: string, won: { part: number; attempt: number }[], log: typeof baseLog): Promise<void> {
    await Promise.all(
      won.map((w) =>
        aws.s3
          .send(new PutObjectCommand({ Bucket: bucket, Key: partWonKeyOf(jobId, stageId, w.part), Body: JSON.stringify({ attempt: w.attempt }), ContentType: 'application/json' }))
          .catch((err: unknown) => log.warn({ part: w.part, err: (err as Error).message }, 'could not write the won marker of a backed-up part; its other attempt runs to its end')),
      ),
    );
  }

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
