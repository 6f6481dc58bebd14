import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import { workflowIdOf } from '../common/ids';
import { startSearchAttributes } from '../common/search-attributes';
import type { PipelineDef } from '../pipeline/types';
import { insertJob } from '../store/jobs';
import type { BatchJobOptions, batchJob } from '../workflows';

export interface LaunchDeps {
  db: Pool;
  temporal: Client;
  /** Task queue of the orchestrator. */
  taskQueue: string;
  bucket: string;
}

export interface LaunchRequest {
  jobId: string;
  pipeline: PipelineDef;
  /** S3 key prefix of the (already uploaded) input. */
  inputPrefix: string;
  /** Start later: the workflow starts with this delay (Temporal start delay). */
  startAt?: Date;
  parentJobId?: string;
  /** Run again only the finally failed parts of this finished job (see `BatchJobInput.retryOf`); it becomes the parent. */
  retryOf?: string;
  options?: BatchJobOptions;
}

/**
 * Records a job and starts its workflow. Idempotent on the job id: a second call with the same
 * id returns the existing workflow's handle and starts nothing.
 */
export async function launchJob(deps: LaunchDeps, req: LaunchRequest): Promise<{ handle: WorkflowHandle<typeof batchJob>; created: boolean }> {
  const workflowId = workflowIdOf(req.jobId);
  const created = await insertJob(deps.db, {
    jobId: req.jobId,
    pipelineName: req.pipeline.name,
    definition: req.pipeline,
    status: 'scheduled',
    bucket: deps.bucket,
    inputPrefix: req.inputPrefix,
    workflowId,
    parentJobId: req.parentJobId ?? req.retryOf ?? null,
    fleet: req.pipeline.fleet,
    startAt: req.startAt ?? null,
  });
  const delayMs = req.startAt ? Math.max(0, req.startAt.getTime() - Date.now()) : 0;
  try {
    const handle = await deps.temporal.workflow.start<typeof batchJob>('batchJob', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [{ jobId: req.jobId, pipeline: req.pipeline, bucket: deps.bucket, inputPrefix: req.inputPrefix, options: req.options, retryOf: req.retryOf }],
      startDelay: delayMs > 0 ? delayMs : undefined,
      typedSearchAttributes: startSearchAttributes({ pipeline: req.pipeline.name, fleet: req.pipeline.fleet, status: delayMs > 0 ? 'scheduled' : 'running' }),
      memo: { pipeline: req.pipeline.name, input: `s3://${deps.bucket}/${req.inputPrefix}` },
      staticSummary: `batchgrid job ${req.jobId}: pipeline ${req.pipeline.name} (${req.pipeline.stages.length} stages)`,
    });
    return { handle, created };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: deps.temporal.workflow.getHandle<typeof batchJob>(workflowId), created: false };
    }
    throw err;
  }
}
