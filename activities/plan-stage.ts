import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { gatherInputsKeyOf, manifestKeyOf } from '../common/layout';
import { MissingObjectError, writeJsonLines } from '../common/s3-io';
import type { SplitSpec, StageDef } from '../pipeline/types';
import { getJob } from '../store/jobs';
import { setStageRunStatus, upsertStageRun, type StageMode } from '../store/stage-runs';
import { failedPartsWithInputs, joinedSucceeded, outputsToInputs, succeededParts } from '../store/task-runs';
import { ensureFleetQueues } from '../common/sqs/queues';
import type { ActivityDeps } from './deps';
import { claimCheckInputs } from './part-inputs';
import type { ManifestLine } from './part-source';
import type { StageSource } from './run-stage';
import { InputError, splitInput } from './split-input';

/**
 * What planning one stage needs, and no more: each stage's input is written to the workflow's
 * history, so it carries the stage's definition, not the whole pipeline once per stage.
 */
export interface PlanStageInput {
  jobId: string;
  stage: StageDef;
  /** The pipeline's fleet, whose queues the stage's parts go to. */
  fleet: string;
  /** The pipeline's `input.split`: how a root stage with no `split` of its own splits the job input. */
  inputSplit: SplitSpec;
  bucket: string;
  /** S3 key prefix of the job input, e.g. `jobs/<id>/input/`. */
  inputPrefix: string;
  /**
   * Set in a retry job: the finished job whose finally failed parts this job runs again. A stage's
   * manifest is then that job's failed parts of the stage plus what its upstream produced in this
   * job; stream stages are planned as barrier.
   */
  retryOf?: string;
}

export interface StagePlan {
  source: StageSource;
  inputQueueUrl: string;
  dlqUrl: string;
}

export function stageMode(stage: StageDef): StageMode {
  if (stage.needs.length === 0) return 'input';
  if (stage.gather) return 'gather';
  return stage.chain;
}

/**
 * Plans a stage: makes sure its fleet's queues exist and writes its part manifest (JSON Lines in
 * S3, streamed) from the job input or its upstream outputs. Returns counts and keys only. A stream
 * stage has no manifest: its parts appear as upstream parts succeed. It creates no queue of the
 * stage run's own (the stage activity does), so a plan cancelled half-way leaks nothing.
 */
export function createPlanStage(deps: ActivityDeps) {
  const { db, aws, queuePrefix } = deps;

  return async function planStage(input: PlanStageInput): Promise<StagePlan> {
    const { jobId, stage, bucket } = input;
    const stageId = stage.id;
    // A retry job's upstream parts all exist before its stages start: nothing to stream.
    const mode = input.retryOf && stageMode(stage) === 'stream' ? 'barrier' : stageMode(stage);
    // Successes are numbered in order only where a stream stage reads them so (the index of that order is a third of a row's bytes).
    const successOrder = !input.retryOf && ((await getJob(db, jobId))?.definition.stages ?? []).some((s) => stageMode(s) === 'stream' && s.needs.includes(stageId));
    await upsertStageRun(db, { jobId, stageId, status: 'planning', task: stage.task, mode, successOrder });

    const fleet = await ensureFleetQueues(aws.sqs, queuePrefix, input.fleet);
    const common = { inputQueueUrl: fleet.inputQueueUrl, dlqUrl: fleet.dlqUrl };

    if (mode === 'stream') {
      await setStageRunStatus(db, jobId, stageId, 'running');
      return { ...common, source: { kind: 'stream', upstream: stage.needs[0] } };
    }

    const manifestKey = manifestKeyOf(jobId, stageId);
    let partsTotal: number;
    try {
      partsTotal = await writeJsonLines(aws.s3, bucket, manifestKey, manifestLines(input, stage, mode));
    } catch (err) {
      if (err instanceof InputError || err instanceof MissingObjectError) throw ApplicationFailure.nonRetryable(err.message, err.name);
      throw err;
    }
    // A retry job may have nothing to redo in a stage: it then succeeds with no parts.
    if (partsTotal === 0 && mode === 'input' && !input.retryOf) {
      throw ApplicationFailure.nonRetryable(`no input to split: s3://${bucket}/${input.inputPrefix} holds no objects`, 'InputError');
    }
    await setStageRunStatus(db, jobId, stageId, 'running', { partsTotal, manifestKey });
    return { ...common, source: { kind: 'manifest', manifestKey, partsTotal } };
  };

  async function* manifestLines(input: PlanStageInput, stage: StageDef, mode: StageMode): AsyncGenerator<ManifestLine> {
    if (!input.retryOf) {
      yield* plannedLines(input, stage, mode);
      return;
    }
    // Retry: the parts upstream produced in this job (none for a root stage), then the parent's
    // finally failed parts of this stage not already among them. No succeeded part of the parent is sent.
    const seen = new Set<number>();
    if (mode !== 'input') {
      for await (const line of plannedLines(input, stage, mode)) {
        seen.add(line.part);
        yield line;
      }
    }
    for await (const p of failedPartsWithInputs(db, input.retryOf, stage.id)) {
      if (!seen.has(p.part)) yield { part: p.part, inputs: p.inputs, inputsKey: p.inputsKey };
    }
  }

  async function* plannedLines(input: PlanStageInput, stage: StageDef, mode: StageMode): AsyncGenerator<ManifestLine> {
    const ctx = Context.current();
    const { jobId, bucket } = input;
    if (mode === 'input') {
      let part = 0;
      for await (const inputs of splitInput(aws.s3, bucket, input.inputPrefix, stage.split ?? input.inputSplit)) {
        yield { part, inputs };
        part += 1;
        if (part % 1000 === 0) ctx.heartbeat({ parts: part });
      }
      return;
    }
    if (mode === 'gather') {
      // One part over every upstream output: the input list goes to its own object, the message carries its key.
      const inputsKey = gatherInputsKeyOf(jobId, stage.id);
      const all = async function* () {
        for (const need of stage.needs) for await (const p of succeededParts(db, jobId, need)) yield* outputsToInputs(p.outputs);
      };
      const inputs = await writeJsonLines(aws.s3, bucket, inputsKey, all());
      // A retry job whose upstream produced nothing has nothing new to reduce.
      if (inputs === 0 && input.retryOf) return;
      yield { part: 0, inputsKey };
      return;
    }
    // Barrier: part i gets the outputs of part i of every upstream (claim-checked when they are many).
    const rows = stage.needs.length === 1 ? succeededParts(db, jobId, stage.needs[0]) : joinedSucceeded(db, jobId, stage.needs);
    for await (const p of rows) yield { part: p.part, ...(await claimCheckInputs(aws.s3, bucket, jobId, stage.id, p.part, outputsToInputs(p.outputs))) };
  }
}
