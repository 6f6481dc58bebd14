import type { S3Client } from '@aws-sdk/client-s3';
import { PartNotFoundError } from '../../common/errors';
import type { ManifestLine } from '../../activities/part-source';
import { claimCheckKeyOf, partPrefixOf } from '../../common/layout';
import type { InputRef, OutputRef, TaskErrorInfo } from '../../common/messages';
import { readJsonLines } from '../../common/s3-io';
import type { PartStatus } from '../../common/status';
import type { StageDef } from '../../pipeline/types';
import type { Queryable } from '../../store/db';
import type { Job } from '../../store/jobs';
import { getPart, type StoredAttempt } from '../../store/parts';
import { getStageRuns } from '../../store/stage-runs';
import { outputsToInputs } from '../../store/task-runs';

/** How one attempt of a part ended: `retried` failed and was (or will be) sent again; `inFlight` has not finished. */
export type AttemptOutcome = 'succeeded' | 'failed' | 'retried' | 'inFlight';

export interface PartAttemptView {
  attempt: number;
  outcome: AttemptOutcome;
  workerId: string | null;
  sentAt: Date | null;
  receivedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** sent → received by a worker, ms. */
  queueWaitMs: number | null;
  /** started → finished, ms. */
  runMs: number | null;
  bytesIn: number;
  bytesOut: number;
  /** The error of a failed attempt; `stderrTail` for the built-in `exec`. */
  error: TaskErrorInfo | null;
  /** When a retried attempt's successor was due. */
  retryAt: Date | null;
  /** What the attempt wrote (a failed attempt's outputs are never published). */
  outputs: OutputRef[];
}

/** Everything about one part: what it ran with, what it produced, and each attempt. */
export interface PartDetails {
  jobId: string;
  stageId: string;
  task: string;
  part: number;
  status: PartStatus;
  /** The stage's params, as the handler received them (before its own schema parsed them). */
  params: unknown;
  /** Per attempt, in ms. */
  timeoutMs: number;
  bucket: string;
  outputPrefix: string;
  /** Every input, with a claim-checked list (`inputsKey`) already read. */
  inputs: InputRef[];
  inputsKey: string | null;
  /** The published outputs and result: the succeeded attempt's. */
  outputs: OutputRef[];
  result: unknown;
  attempts: PartAttemptView[];
}

const ms = (from: Date | null, to: Date | null) => (from && to ? Math.max(0, to.getTime() - from.getTime()) : null);

function outcomeOf(a: StoredAttempt): AttemptOutcome {
  if (a.status === 'succeeded') return 'succeeded';
  if (a.status === 'queued') return 'inFlight';
  return a.status === 'retry_wait' || a.retryAt !== null ? 'retried' : 'failed';
}

/**
 * What a succeeded part was sent with, which its row no longer stores (store/task-runs.ts
 * applyResults drops them): a stream stage's part got the outputs of the same part of its one
 * upstream (claim-checked as the stage loop does when they are many); any other stage's part is
 * its line of the stage manifest, read from S3 until found.
 */
async function sentInputs(deps: { db: Queryable; s3: S3Client }, job: Job, stage: StageDef, part: number): Promise<{ inputs: InputRef[]; inputsKey: string | null }> {
  const run = (await getStageRuns(deps.db, job.jobId)).find((r) => r.stageId === stage.id);
  if (run?.mode === 'stream') {
    const upstream = await getPart(deps.db, job.jobId, stage.needs[0]!, part);
    const inputs = outputsToInputs(upstream?.outputs ?? []);
    const inputsKey = claimCheckKeyOf(job.jobId, stage.id, part, inputs);
    return inputsKey === undefined ? { inputs, inputsKey: null } : { inputs: [], inputsKey };
  }
  if (run?.manifestKey) {
    for await (const line of readJsonLines<ManifestLine>(deps.s3, job.bucket, run.manifestKey)) {
      if (line.part === part) return { inputs: line.inputs ?? [], inputsKey: line.inputsKey ?? null };
    }
  }
  return { inputs: [], inputsKey: null };
}

/** The part of a job's stage, with its attempts and inputs; PartNotFoundError names what is missing. */
export async function partDetails(deps: { db: Queryable; s3: S3Client }, job: Job, stageId: string, part: number): Promise<PartDetails> {
  const stage = job.definition.stages.find((s) => s.id === stageId);
  if (!stage) {
    throw new PartNotFoundError(job.jobId, stageId, part, `job ${job.jobId} has no stage ${JSON.stringify(stageId)}: its stages are ${job.definition.stages.map((s) => s.id).join(', ')}`);
  }
  if (!Number.isSafeInteger(part) || part < 0) throw new PartNotFoundError(job.jobId, stageId, part, `part must be a whole number >= 0 (got ${part})`);
  const stored = await getPart(deps.db, job.jobId, stageId, part);
  if (!stored) throw new PartNotFoundError(job.jobId, stageId, part, `stage ${stageId} of job ${job.jobId} has no part ${part} (not planned, or not sent yet)`);
  const sent = stored.inputs === null ? await sentInputs(deps, job, stage, part) : { inputs: stored.inputs, inputsKey: stored.inputsKey };
  const inputs = [...sent.inputs];
  if (sent.inputsKey) for await (const ref of readJsonLines<InputRef>(deps.s3, job.bucket, sent.inputsKey)) inputs.push(ref);
  return {
    jobId: job.jobId,
    stageId,
    task: stage.task,
    part,
    status: stored.status,
    params: stage.params,
    timeoutMs: stage.timeoutMs,
    bucket: job.bucket,
    outputPrefix: partPrefixOf(job.jobId, stageId, part),
    inputs,
    inputsKey: sent.inputsKey,
    outputs: stored.outputs,
    result: stored.result,
    attempts: stored.attempts.map((a) => ({
      attempt: a.attempt,
      outcome: outcomeOf(a),
      workerId: a.workerId,
      sentAt: a.sentAt,
      receivedAt: a.receivedAt,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
      queueWaitMs: ms(a.sentAt, a.receivedAt),
      runMs: a.status === 'queued' ? null : ms(a.startedAt, a.finishedAt),
      bytesIn: a.bytesIn,
      bytesOut: a.bytesOut,
      error: a.error,
      retryAt: a.retryAt,
      outputs: a.outputs,
    })),
  };
}
