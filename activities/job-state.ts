import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { config } from '../common/config';
import { resultsKeyOf, stageClosedKeyOf } from '../common/layout';
import { writeJsonLines } from '../common/s3-io';
import type { JobStatus, TerminalStatus } from '../common/status';
import { deleteCompletionQueue } from '../common/sqs/queues';
import { finalStages } from '../pipeline/dag';
import { admitBatchJobInput, formatInputProblems } from '../pipeline/job-input';
import type { PipelineDef, StageDef } from '../pipeline/types';
import { failJobOfWorkflow, insertJob, setJobStatus, tuneJob as tuneJobRow } from '../store/jobs';
import { compileTune, type JobTune } from '../pipeline/tune';
import { closeStageRun } from '../store/stage-runs';
import { succeededParts } from '../store/task-runs';
import type { ActivityDeps } from './deps';
import { stageMode } from './plan-stage';
import type { StageResult } from './run-stage';

export interface JobSummary {
  jobId: string;
  pipeline: string;
  status: TerminalStatus;
  stages: StageResult[];
  /** S3 key of the job's results: one JSON line per part of each final stage. */
  resultsKey?: string;
  results?: number;
  startedAt: number;
  finishedAt: number;
  error?: string;
}

export interface FinishJobInput {
  jobId: string;
  pipeline: PipelineDef;
  bucket: string;
  status: JobSummary['status'];
  stages: StageResult[];
  startedAt: number;
  error?: string;
}

export interface BeginJobInput {
  workflowId: string;
  /** The workflow's input as it came, from batchgrid or from any Temporal program: checked here. */
  input: unknown;
  /** The job id the workflow id gives, for an input without `jobId`. */
  defaultJobId: string;
}

/** The checked input: the job id and bucket to use, and the pipeline when it differs from the input's `pipeline` (compiled here). */
export interface BegunJob {
  jobId: string;
  bucket: string;
  pipeline?: PipelineDef;
}

export interface CloseStageInput {
  jobId: string;
  stage: StageDef;
  bucket: string;
  /** How the workflow saw the stage end; a stage run that already ended keeps its own outcome. */
  status: TerminalStatus;
  error?: string;
}

/** Job-level activities: status changes, closing stages and the final results file. */
export function createJobActivities(deps: ActivityDeps) {
  const { db, aws, queuePrefix } = deps;

  /**
   * Closes a stage run once the workflow holds its outcome: records the end if no one did (a
   * stage cancelled while planning), marks the stage closed in S3 (so a fleet worker that finds
   * the completion queue gone knows the stage is over, not that SQS lost it), then deletes the
   * queue. Safe to replay.
   */
  async function closeStage(input: CloseStageInput): Promise<void> {
    const { jobId, stage, bucket } = input;
    await closeStageRun(db, { jobId, stageId: stage.id, task: stage.task, mode: stageMode(stage), status: input.status, error: input.error });
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: stageClosedKeyOf(jobId, stage.id), Body: JSON.stringify({ status: input.status, at: new Date().toISOString() }), ContentType: 'application/json' }),
    );
    await deleteCompletionQueue(aws.sqs, queuePrefix, jobId, stage.id);
  }

  /**
   * Checks the workflow's input (an input that is not valid fails the workflow at once, with every
   * problem, as a non-retryable `InvalidJobInput`), then marks the job running, first recording it
   * if no one did (a job started by a Temporal Schedule, a parent workflow or the Temporal CLI has
   * no submitter to do so).
   */
  async function beginJob(input: BeginJobInput): Promise<BegunJob> {
    const admitted = admitBatchJobInput(input.input, { workflowId: input.workflowId, defaultJobId: input.defaultJobId, defaultBucket: deps.bucket ?? config().BATCHGRID_BUCKET });
    if (!admitted.ok) {
      const message = formatInputProblems(admitted.problems);
      // A job batchgrid recorded before starting it (submit, retry) ends failed with the problems; a start from elsewhere recorded nothing.
      const raw = input.input as { jobId?: unknown } | null;
      await failJobOfWorkflow(db, typeof raw?.jobId === 'string' ? raw.jobId : input.defaultJobId, input.workflowId, message);
      throw ApplicationFailure.create({ type: 'InvalidJobInput', message, nonRetryable: true, details: [admitted.problems] });
    }
    const { jobId, pipeline, bucket } = admitted.input;
    const raw = input.input as { inputPrefix: string; pipeline?: unknown; retryOf?: string };
    await insertJob(db, {
      jobId,
      pipelineName: pipeline.name,
      definition: pipeline,
      bucket,
      inputPrefix: raw.inputPrefix,
      workflowId: input.workflowId,
      parentJobId: raw.retryOf ?? null,
      fleet: pipeline.fleet,
    });
    await setJobStatus(db, jobId, 'running');
    // A compiled input that compiles to itself is not sent back: the history holds it once.
    const same = raw.pipeline !== undefined && JSON.stringify(raw.pipeline) === JSON.stringify(pipeline);
    return same ? { jobId, bucket } : { jobId, bucket, pipeline };
  }

  /** Records a job status change (running, paused, resumed as running); terminal statuses are never left. */
  async function setJobState(input: { jobId: string; status: JobStatus }): Promise<boolean> {
    return setJobStatus(db, input.jobId, input.status);
  }

  /** Writes `results.jsonl` (the final stages' outputs, streamed from Postgres) and records the job's end. */
  async function finishJob(input: FinishJobInput): Promise<JobSummary> {
    const { jobId, pipeline, bucket } = input;
    const summary: JobSummary = {
      jobId,
      pipeline: pipeline.name,
      status: input.status,
      stages: input.stages,
      startedAt: input.startedAt,
      finishedAt: Date.now(),
      error: input.error,
    };
    if (input.status === 'succeeded') {
      const finals = finalStages(pipeline).map((s) => s.id);
      const rows = async function* () {
        for (const stage of finals) for await (const p of succeededParts(db, jobId, stage)) yield { stage, part: p.part, outputs: p.outputs, result: p.result };
      };
      summary.resultsKey = resultsKeyOf(jobId);
      summary.results = await writeJsonLines(aws.s3, bucket, summary.resultsKey, rows());
    }
    await setJobStatus(db, jobId, input.status, { summary, error: input.error });
    return summary;
  }

  /**
   * Applies `batchgrid tune` to a job not finished yet (the workflow's `tune` update runs it, so the
   * change is in the job's history). Stages read the new window and tolerance about once a second;
   * the fair share reads the priority. A request with problems, or for a finished job, fails at
   * once, not retried, saying why.
   */
  async function tuneJob(input: { jobId: string; tune: unknown }): Promise<JobTune> {
    const r = compileTune(input.tune);
    if (!r.ok) throw ApplicationFailure.nonRetryable(`invalid tune for job ${input.jobId}: ${r.problems.join('; ')}`, 'InvalidTune');
    if (!(await tuneJobRow(db, input.jobId, r.tune))) throw ApplicationFailure.nonRetryable(`job ${input.jobId} has finished: there is nothing to tune`, 'JobFinished');
    return r.tune;
  }

  return { beginJob, setJobState, closeStage, finishJob, tuneJob };
}
