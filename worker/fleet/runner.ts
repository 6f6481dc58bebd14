import type { S3Client } from '@aws-sdk/client-s3';
import { errorMessage, PermanentTaskError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { InputRef, OutputRef, PartResult, PartTask, TaskErrorInfo, TaskMessage } from '../../common/messages';
import { jsonBytes, LIMIT_REASONS, overLimitMessage, PART_COMPLETION_MAX_BYTES, PART_OUTPUTS_MAX, PART_RESULT_MAX_BYTES } from '../../pipeline/limits';
import { InvalidParamsError, ResultTooLargeError, TaskTimeoutError, UnknownTaskError } from '../errors';
import type { TaskRegistry } from '../registry';
import type { PartInfo } from '../task';
import { createTaskContext, readInputsList, type IoCounters, type PartObjects } from '../task-context';

/** Largest serialised summary a handler may return, in bytes (PART_RESULT_MAX_BYTES of pipeline/limits.ts). */
export const MAX_SUMMARY_BYTES = PART_RESULT_MAX_BYTES;
/** Longest error message carried in a result, in characters. */
export const MAX_ERROR_MESSAGE_CHARS = 4000;
/** Longest stderr tail carried in a result (the built-in exec's), in characters. */
export const MAX_STDERR_TAIL_CHARS = 4000;

export interface RunPartInput {
  message: TaskMessage;
  part: PartTask;
  /** Epoch ms the worker received the message. */
  receivedAt: number;
  receiveCount: number;
  registry: TaskRegistry;
  s3: S3Client;
  log: Logger;
  /** Aborted by the runner on timeout, and by the worker on cancel or shutdown (with the reason as abort reason). */
  controller: AbortController;
  /** Where inputs are read and outputs written. Default: S3 (`batchgrid part --run` passes local files). */
  objects?: PartObjects;
}

/** A part's end: a result to post, or an abort (shutdown, cancel) after which nothing is posted. */
export type PartOutcome = { kind: 'result'; result: PartResult } | { kind: 'aborted'; reason: unknown };

/**
 * Runs one part through its handler and turns whatever happens into a PartResult: success with
 * the summary and outputs, or failure with the error's type and retryability. Never rejects.
 */
export async function runPart(input: RunPartInput): Promise<PartOutcome> {
  const { message, part, controller } = input;
  const startedAt = Date.now();
  const counters: IoCounters = { bytesIn: 0, bytesOut: 0 };
  const log = input.log.child({ jobId: message.jobId, stageId: message.stageId, part: part.part, attempt: part.attempt });
  let outputs: readonly OutputRef[] = [];
  const timer = setTimeout(() => controller.abort(new TaskTimeoutError(message.timeoutMs)), message.timeoutMs);

  const execute = async (): Promise<unknown> => {
    const def = input.registry.get(message.task);
    if (!def) throw new UnknownTaskError(message.task, input.registry.names);
    const params = def.params.safeParse(message.params);
    if (!params.success) {
      throw new InvalidParamsError(message.task, params.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })));
    }
    const inputs: InputRef[] = [...part.inputs];
    if (part.inputsKey) inputs.push(...(await readInputsList(input.s3, message.bucket, part.inputsKey, controller.signal, counters)));
    const info: PartInfo = { jobId: message.jobId, stageId: message.stageId, part: part.part, attempt: part.attempt, inputs, outputPrefix: part.outputPrefix };
    const ctx = createTaskContext({
      s3: input.s3, bucket: message.bucket, params: params.data, signal: controller.signal, log,
      inputs, outputPrefix: part.outputPrefix, receiveCount: input.receiveCount, counters, objects: input.objects,
    });
    outputs = ctx.outputs;
    return def.run(info, ctx);
  };

  const taskVersion = input.registry.get(message.task)?.version;
  const base = { part: part.part, attempt: part.attempt, sentAt: message.sentAt, receivedAt: input.receivedAt, startedAt, ...(taskVersion === undefined ? {} : { taskVersion }) };
  const finish = (fields: Pick<PartResult, 'status' | 'outputs' | 'result' | 'error'>): PartOutcome => ({
    kind: 'result',
    result: { ...base, ...fields, finishedAt: Date.now(), bytesIn: counters.bytesIn, bytesOut: counters.bytesOut },
  });

  try {
    const value = await raceAbort(execute(), controller.signal);
    const outcome = finish({ status: 'succeeded', outputs: [...outputs], result: toSummary(value) });
    checkResultSize(outcome);
    return outcome;
  } catch (err) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason !== undefined && !(reason instanceof TaskTimeoutError)) return { kind: 'aborted', reason };
    const error = toErrorInfo(reason ?? err);
    log[error.retryable ? 'warn' : 'error']({ errType: error.type, retryable: error.retryable, err: error.message }, 'part failed');
    const failed = finish({ status: 'failed', outputs: [...outputs], error });
    // A failure must reach the orchestrator: when its outputs would not fit a completion message, it goes without them.
    return completionBytes(failed) > PART_COMPLETION_MAX_BYTES ? finish({ status: 'failed', outputs: [], error }) : failed;
  } finally {
    clearTimeout(timer);
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts (a handler that ignores the signal is left behind). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // its late rejection, after an abort, is nobody's business
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A handler's return value as plain JSON, refused when not serialisable or above MAX_SUMMARY_BYTES. */
export function toSummary(value: unknown): unknown {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new PermanentTaskError(`the task's result is not JSON-serialisable: ${errorMessage(err)}`);
  }
  if (json === undefined) return undefined; // a function or symbol
  const bytes = jsonBytes(value);
  if (bytes > MAX_SUMMARY_BYTES) throw new ResultTooLargeError(`the task's result: ${overLimitMessage(bytes, MAX_SUMMARY_BYTES, LIMIT_REASONS.result)}`);
  return JSON.parse(json);
}

const completionBytes = (outcome: PartOutcome) => (outcome.kind === 'result' ? jsonBytes(outcome.result) : 0);

/** Refuses a succeeded part whose outputs or whole completion entry are over the limits of pipeline/limits.ts. */
function checkResultSize(outcome: PartOutcome): void {
  if (outcome.kind !== 'result') return;
  const count = outcome.result.outputs.length;
  if (count > PART_OUTPUTS_MAX) {
    throw new ResultTooLargeError(`the part wrote ${count} outputs, over the limit of ${PART_OUTPUTS_MAX} outputs per part (${LIMIT_REASONS.outputs})`);
  }
  const bytes = completionBytes(outcome);
  if (bytes > PART_COMPLETION_MAX_BYTES) {
    throw new ResultTooLargeError(`the part's completion entry (result and ${count} outputs): ${overLimitMessage(bytes, PART_COMPLETION_MAX_BYTES, LIMIT_REASONS.completion)}`);
  }
}

/** The wire form of a thrown value: PermanentTaskError (and subclasses) are not retryable, everything else is. */
export function toErrorInfo(err: unknown): TaskErrorInfo {
  const message = errorMessage(err);
  const type = err instanceof Error ? err.name || 'Error' : 'Error';
  const stderrTail = (err as { stderrTail?: unknown } | null)?.stderrTail;
  return {
    message: message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : message,
    type,
    retryable: !isPermanent(err),
    // exec's failures carry the end of the command's stderr: `batchgrid part` shows it.
    ...(typeof stderrTail === 'string' && stderrTail !== '' ? { stderrTail: stderrTail.length > MAX_STDERR_TAIL_CHARS ? `…${stderrTail.slice(-MAX_STDERR_TAIL_CHARS)}` : stderrTail } : {}),
  };
}

/** True for PermanentTaskError and its subclasses, also when thrown by a task module with its own copy of the class. */
function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentTaskError) return true;
  for (let proto = err; proto !== null && typeof proto === 'object'; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'PermanentTaskError') return true;
  }
  return false;
}
