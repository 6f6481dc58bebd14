import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities, BegunJob, JobSummary, StagePlan, StageResult } from '../activities';
import { SEARCH_ATTRIBUTE_KEYS as SA } from '../common/search-attributes';
import type { JobStatus, StageStatus } from '../common/status';
import { fleetOf, readyStages } from '../pipeline/dag';
import type { JobTune } from '../pipeline/tune';
import type { PipelineDef, StageDef } from '../pipeline/types';

/**
 * The workflow's input. batchgrid's own launcher sends a compiled `pipeline`; any other Temporal
 * program sends `definition`, the pipeline as written (see docs/temporal.md and the JSON Schema
 * docs/batch-job-input.schema.json). The first activity checks it all and fails the workflow at
 * once, with every problem, when it is not valid.
 */
export interface BatchJobInput {
  /** Default: from the workflow id (`job-<jobId>`), made safe; schedules start jobs this way. */
  jobId?: string;
  /** The compiled pipeline (what `batchgrid submit` sends). Exactly one of `pipeline` and `definition`. */
  pipeline?: PipelineDef;
  /** The pipeline as written: a map, or its YAML or JSON text (compiled by the first activity, not in the sandbox). */
  definition?: unknown;
  /** Default: the orchestrator's BATCHGRID_BUCKET. */
  bucket?: string;
  /** S3 key prefix of the job input, e.g. `jobs/<id>/input/`. */
  inputPrefix: string;
  options?: BatchJobOptions;
  /**
   * A retry job: the finished job whose finally failed parts this one runs again (and what they
   * feed downstream). Its stream stages run as barrier: every upstream part exists before they start.
   */
  retryOf?: string;
}

export interface BatchJobOptions {
  /** How long a stage activity may go without a heartbeat before it is retried elsewhere, in ms. Default: 30000. */
  stageHeartbeatTimeoutMs?: number;
  /** Parts per task message; default from the concurrency. */
  partsPerMessage?: number;
  /**
   * The lost-message slack: how long past its timeout, counted from when a worker started it, a
   * part's completion may be missing before its attempt is failed as timed out, in ms. A part
   * waiting in the queue is never timed out for waiting. Default: 120000.
   */
  overdueSlackMs?: number;
  /**
   * How much work a fleet's input queue may hold ahead of its workers, in ms: the rest of each
   * job's window waits in the orchestrator, where priorities and fair share still decide what
   * goes next (docs/engine.md, "Fair share"). Larger keeps more parts queued; a job submitted
   * behind a backlog waits about this long. Default: 3000.
   */
  queueAheadMs?: number;
}

export type { StageStatus } from '../common/status';

export interface JobProgress {
  jobId: string;
  pipeline: string;
  /** A running workflow's job has started: never `scheduled`. */
  status: Exclude<JobStatus, 'scheduled'>;
  stages: { id: string; task: string; status: StageStatus; partsTotal?: number; result?: StageResult }[];
}

export const progressQuery = defineQuery<JobProgress>('progress');
export const pauseSignal = defineSignal('pause');
/**
 * Retunes the running job (`batchgrid tune`): its window, priority, tolerated failures. As an
 * update, each change is in the job's history with what it set; a bad request or a finished job
 * fails the update, saying why.
 */
export const tuneUpdate = defineUpdate<JobTune, [unknown]>('tune');
export const resumeSignal = defineSignal('resume');

/** `job-nightly-2026-11-29T03:00:00Z` → `nightly-2026-11-29t03-00-00z`: a schedule's run id as a job id. */
export function jobIdFromWorkflowId(workflowId: string): string {
  return workflowId.replace(/^job-/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
}

/** The pipeline with every stream stage turned into a barrier stage (retry jobs). */
function withBarrierChains(pipeline: PipelineDef): PipelineDef {
  return { ...pipeline, stages: pipeline.stages.map((s) => (s.chain === 'stream' ? { ...s, chain: 'barrier' as const } : s)) };
}

const retry: RetryPolicy = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2 };
/**
 * A stage activity's attempt fails mostly because its orchestrator stopped, and the next one resumes
 * from the stage's rows, so the backoff stays short. It matters when an orchestrator is frozen
 * (SIGSTOP, a paused VM): the server hands the next attempts to the polls the frozen process left
 * open, each costs a heartbeat timeout, and a backoff growing to 30 s would add up to minutes.
 */
const stageRetry: RetryPolicy = { initialInterval: '1s', maximumInterval: '5s', backoffCoefficient: 2 };

/**
 * One job: walks the stage DAG, starting every stage whose needs allow it, concurrently. Per
 * stage it schedules two activities (plan, run), so the history grows with the number of
 * stages, never with the number of parts: per-part state lives in SQS and Postgres.
 */
export async function batchJob(input: BatchJobInput): Promise<JobSummary> {
  const { retryOf } = input;
  const opts = input.options ?? {};
  const short: ActivityOptions = { startToCloseTimeout: '1 hour', heartbeatTimeout: '2 minutes', retry };
  const stageOptions: ActivityOptions = {
    startToCloseTimeout: '30 days',
    heartbeatTimeout: opts.stageHeartbeatTimeoutMs ?? 30_000,
    retry: stageRetry,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  const acts = proxyActivities<Activities>(short);
  const { runStage } = proxyActivities<Activities>(stageOptions);
  const startedAt = Date.now();
  const { workflowId } = workflowInfo();

  // Handlers are set before the first activity, so that a query, signal or update sent while the
  // input is being checked is answered (an update with no handler yet would be rejected).
  const provisionalJobId = typeof input.jobId === 'string' ? input.jobId : jobIdFromWorkflowId(workflowId);
  let known: { jobId: string; pipeline: PipelineDef } | undefined = undefined;
  const stages = new Map<string, JobProgress['stages'][number]>();
  let status: JobProgress['status'] = 'running';
  let wantPaused = false;
  let paused = false;
  let concurrency = 0;

  setHandler(progressQuery, () => ({ jobId: known?.jobId ?? provisionalJobId, pipeline: known?.pipeline.name ?? input.pipeline?.name ?? '', status, stages: [...stages.values()] }));
  setHandler(pauseSignal, () => void (wantPaused = true));
  setHandler(resumeSignal, () => void (wantPaused = false));
  setHandler(
    tuneUpdate,
    async (request) => {
      await condition(() => known !== undefined);
      const tune = await acts.tuneJob({ jobId: known!.jobId, tune: request });
      if (tune.concurrency !== undefined) concurrency = tune.concurrency;
      return tune;
    },
    {
      validator: (_request: unknown) => {
        if (status !== 'running' && status !== 'paused') throw new Error(`job ${known?.jobId ?? provisionalJobId} is ${status}: there is nothing to tune`);
      },
    },
  );

  // Checks the input (from any Temporal program) and records the job. Not cancellable: a cancel
  // arriving now is seen by the stage scope below, which records it.
  let begun: BegunJob;
  try {
    begun = await CancellationScope.nonCancellable(() => acts.beginJob({ workflowId, input, defaultJobId: jobIdFromWorkflowId(workflowId) }));
  } catch (err) {
    status = 'failed';
    // A refused input ends the workflow now, with the activity's list of problems.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidJobInput') {
      throw ApplicationFailure.create({ type: 'InvalidJobInput', message: err.cause.message, nonRetryable: true, details: err.cause.details ? [...err.cause.details] : undefined });
    }
    throw err;
  }
  const { jobId, bucket } = begun;
  const compiled = begun.pipeline ?? input.pipeline!;
  const pipeline = retryOf ? withBarrierChains(compiled) : compiled;
  for (const s of pipeline.stages) stages.set(s.id, { id: s.id, task: s.task, status: 'pending' });
  concurrency = pipeline.concurrency;
  known = { jobId, pipeline };

  const describe = () => {
    const running = [...stages.values()].filter((s) => s.status === 'running' || s.status === 'planning');
    upsertSearchAttributes([
      { key: SA.pipeline, value: pipeline.name },
      { key: SA.fleet, value: pipeline.fleet },
      { key: SA.status, value: status },
      { key: SA.stages, value: running.map((s) => s.id) },
    ]);
    const words = [...stages.values()].map((s) => `${s.id}: ${s.status}${s.result ? ` (${s.result.succeeded}/${s.result.partsTotal} parts ok, ${s.result.failed} failed)` : s.partsTotal !== undefined ? ` (${s.partsTotal} parts)` : ''}`);
    upsertMemo({ pipeline: pipeline.name, status, stages: words.join('; ') });
    setCurrentDetails(`**${pipeline.name}** job ${jobId}: ${status}\n\n${words.map((w) => `- ${w}`).join('\n')}`);
  };

  describe();

  // Pause and resume are applied one at a time, in order, whatever the signals' timing.
  void (async () => {
    for (;;) {
      await condition(() => wantPaused !== paused);
      const target = wantPaused;
      await acts.setJobState({ jobId, status: target ? 'paused' : 'running' });
      paused = target;
      if (status === 'running' || status === 'paused') status = target ? 'paused' : 'running';
      describe();
    }
  })().catch((err: unknown) => {
    // Cancelling the job cancels this loop's wait too; anything else is a bug worth failing the task for.
    if (!isCancellation(err)) throw err;
  });

  const results: StageResult[] = [];
  let failure: string | undefined;
  let changed = 0;
  const active = new Set<string>();
  const done = new Set<string>();
  const stagesScope = new CancellationScope();

  const runOne = async (stage: StageDef): Promise<void> => {
    const entry = stages.get(stage.id)!;
    let error: string | undefined;
    try {
      entry.status = 'planning';
      describe();
      const plan: StagePlan = await acts.planStage.executeWithOptions(
        { ...short, summary: `plan stage ${stage.id} (${stage.task})` },
        [{ jobId, stage, fleet: fleetOf(pipeline, stage), inputSplit: pipeline.input.split, bucket, inputPrefix: input.inputPrefix, retryOf }],
      );
      entry.status = 'running';
      if (plan.source.kind === 'manifest') entry.partsTotal = plan.source.partsTotal;
      describe();
      const what = plan.source.kind === 'manifest' ? `${plan.source.partsTotal} parts` : `parts streamed from ${plan.source.upstream}`;
      const result = await runStage.executeWithOptions(
        { ...stageOptions, summary: `run stage ${stage.id}: ${stage.task} over ${what}, ${concurrency} in flight at most` },
        [{ jobId, stage, bucket, concurrency, source: plan.source, fleet: fleetOf(pipeline, stage), inputQueueUrl: plan.inputQueueUrl, dlqUrl: plan.dlqUrl, partsPerMessage: opts.partsPerMessage, overdueSlackMs: opts.overdueSlackMs, queueAheadMs: opts.queueAheadMs, pipelineName: pipeline.name }],
      );
      results.push(result);
      entry.result = result;
      entry.partsTotal = result.partsTotal;
      entry.status = result.status;
      if (result.status === 'succeeded') done.add(stage.id);
      else failure ??= `stage ${stage.id} failed: ${result.error}`;
    } catch (err) {
      if (isCancellation(err)) entry.status = 'cancelled';
      else {
        entry.status = 'failed';
        error = err instanceof Error ? err.message : String(err);
        failure ??= `stage ${stage.id} failed: ${error}`;
      }
    } finally {
      // The outcome is in hand (and stored): only now is the stage run closed and its queue deleted.
      const status = entry.status === 'succeeded' || entry.status === 'cancelled' ? entry.status : 'failed';
      await CancellationScope.nonCancellable(() => acts.closeStage({ jobId, stage, bucket, status, error }));
      active.delete(stage.id);
      changed += 1;
      describe();
    }
  };

  let cancellation: unknown;
  try {
    await stagesScope.run(async () => {
      for (;;) {
        // Starting a stage can make others ready (a stream stage needs its upstream only started).
        for (let ready = readyStages(pipeline, done, active); failure === undefined && ready.length > 0; ready = readyStages(pipeline, done, active)) {
          for (const stage of ready) {
            active.add(stage.id);
            void runOne(stage);
          }
        }
        if (active.size === 0) return;
        const seen = changed;
        await condition(() => changed !== seen);
        // A failed stage ends the job: stop the stages still running.
        if (failure !== undefined && active.size > 0) stagesScope.cancel();
      }
    });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancellation = err;
    // The stage activities were asked to cancel: wait until each has stopped sending and recorded it.
    await CancellationScope.nonCancellable(() => condition(() => active.size === 0));
  }

  const cancelled = CancellationScope.current().consideredCancelled;
  status = cancelled ? 'cancelled' : failure !== undefined ? 'failed' : 'succeeded';
  describe();
  const summary = await CancellationScope.nonCancellable(() =>
    acts.finishJob({ jobId, pipeline, bucket, status: status as JobSummary['status'], stages: results, startedAt, error: failure }),
  );
  log.info('job finished', { jobId, status });
  // Rethrowing the cancellation marks the workflow Canceled in Temporal; the summary is in Postgres.
  if (cancelled) throw cancellation;
  if (status === 'failed') throw ApplicationFailure.create({ message: `job ${jobId} failed: ${failure}`, type: 'JobFailed', nonRetryable: true, details: [summary] });
  return summary;
}
