import { executeChild, uuid4, type ChildWorkflowOptions } from '@temporalio/workflow';
import type { JobSummary } from '../activities';
import type { batchJob, BatchJobInput, BatchJobOptions } from './batch-job';

/**
 * Running a batchgrid job as a step of your own Temporal workflow (`import … from 'batchgrid/workflow'`).
 * Workflow-safe: nothing here reaches Node, the network or a parser. A pipeline given as YAML text
 * travels as text and is compiled by the job's first activity, so your workflow's sandbox needs no
 * YAML parser and replays stay deterministic. See docs/temporal.md.
 */

export type { BatchJobInput, BatchJobOptions, JobProgress } from './batch-job';
export type { JobSummary } from '../activities';
export type { StageResult } from '../activities';

/** The workflow type name and default task queue of batchgrid's orchestrator. */
export const BATCH_JOB_WORKFLOW_TYPE = 'batchJob';
export const BATCHGRID_TASK_QUEUE = 'batchgrid';

export interface BatchJobRequest {
  /** The pipeline as written (the YAML format as a map: `apiVersion`, `kind`, `name`, `stages`…). Exactly one of `pipeline` and `yaml`. */
  pipeline?: Record<string, unknown>;
  /** The pipeline's YAML (or JSON) text. */
  yaml?: string;
  /** S3 key prefix of the job's input: a folder ending in `/` (e.g. `jobs/claims-2026-11/input/`), or one object's key. */
  inputPrefix: string;
  /** The job id (1–48 lowercase letters, digits or dashes). Default: a UUID drawn with the workflow's deterministic `uuid4()`. */
  jobId?: string;
  /** Default: the orchestrator's BATCHGRID_BUCKET. */
  bucket?: string;
  options?: BatchJobOptions;
  /** The job's weight in its fleets' fair share, 1–100. Default: the pipeline's `priority` (1 when it has none). */
  priority?: number;
}

/** The `batchJob` input for a request; refuses a request with both or neither of `pipeline` and `yaml`. */
export function batchJobInput(req: BatchJobRequest): BatchJobInput & { priority?: number } {
  if ((req.pipeline === undefined) === (req.yaml === undefined)) {
    throw new TypeError('batchJobInput: give exactly one of `pipeline` (a map) and `yaml` (its text)');
  }
  return {
    definition: req.pipeline ?? req.yaml,
    inputPrefix: req.inputPrefix,
    ...(req.jobId === undefined ? {} : { jobId: req.jobId }),
    ...(req.bucket === undefined ? {} : { bucket: req.bucket }),
    ...(req.options === undefined ? {} : { options: req.options }),
    ...(req.priority === undefined ? {} : { priority: req.priority }),
  };
}

export interface BatchJobChildOptions extends Omit<ChildWorkflowOptions, 'args' | 'workflowId' | 'taskQueue'> {
  /** The orchestrator's task queue. Default: `batchgrid`. */
  taskQueue?: string;
}

/**
 * The child workflow options for a request: workflow id `job-<jobId>` (as `batchgrid submit` names
 * them), the orchestrator's task queue and the input. Pass them to `startChild('batchJob', …)`.
 */
export function batchJobChild(req: BatchJobRequest, options: BatchJobChildOptions = {}): ChildWorkflowOptions & { workflowId: string; args: [BatchJobInput] } {
  const jobId = req.jobId ?? uuid4();
  const { taskQueue = BATCHGRID_TASK_QUEUE, ...rest } = options;
  return { ...rest, workflowId: `job-${jobId}`, taskQueue, args: [batchJobInput({ ...req, jobId })] };
}

/**
 * Runs a batchgrid job as a child workflow and returns its summary. A job that fails rejects with a
 * `ChildWorkflowFailure` whose cause (type `JobFailed`) carries the summary as its first detail; an
 * input that is not valid, with type `InvalidJobInput` and the list of problems.
 */
export async function runBatchJob(req: BatchJobRequest, options: BatchJobChildOptions = {}): Promise<JobSummary> {
  return executeChild<typeof batchJob>(BATCH_JOB_WORKFLOW_TYPE, batchJobChild(req, options));
}
