import { PermanentTaskError } from '../common/errors';

/**
 * Errors of the fleet worker's task API. The `name` of each class is what a failed part
 * reports as its error `type`; subclasses of PermanentTaskError are never retried.
 */

/** Thrown when a task message names a task this worker has no handler for. */
export class UnknownTaskError extends PermanentTaskError {
  constructor(readonly task: string, readonly registered: readonly string[]) {
    super(`no handler registered for task '${task}' on this worker (registered: ${registered.join(', ') || 'none'})`);
    this.name = 'UnknownTaskError';
  }
}

/** Thrown when a task's params do not match its schema; names every bad field. */
export class InvalidParamsError extends PermanentTaskError {
  constructor(readonly task: string, readonly problems: { path: string; message: string }[]) {
    super(`invalid params for task '${task}': ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidParamsError';
  }
}

/** Thrown when an input (or an inputs list) does not exist in S3: retrying cannot make it appear. */
export class InputNotFoundError extends PermanentTaskError {
  constructor(readonly bucket: string, readonly key: string, options?: { cause?: unknown }) {
    super(`input s3://${bucket}/${key} does not exist (bucket '${bucket}', key '${key}')`, options);
    this.name = 'InputNotFoundError';
  }
}

/** Thrown when a handler's summary (or the part result carrying it) is too large for a completion message. */
export class ResultTooLargeError extends PermanentTaskError {
  constructor(message: string) {
    super(message);
    this.name = 'ResultTooLargeError';
  }
}

/** Thrown (as the abort reason of `ctx.signal`) when a part runs longer than the message's `timeoutMs`. */
export class TaskTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`part did not finish within its timeout of ${timeoutMs} ms`);
    // The wire type the orchestrator retries on.
    this.name = 'TimeoutError';
  }
}

/** Thrown (as the abort reason of `ctx.signal`) when the worker stops before a part finishes; the part is handed back, not reported. */
export class WorkerStoppingError extends Error {
  constructor() {
    super('the worker is stopping; the part will be handed back to the queue');
    this.name = 'WorkerStoppingError';
  }
}

/** Thrown (as the abort reason of `ctx.signal`) when the spot instance is reclaimed before the part can finish; handed back like a stop, no attempt spent. */
export class SpotInterruptionError extends WorkerStoppingError {
  constructor(readonly reclaimAt: number) {
    super();
    this.message = `the spot instance is reclaimed at ${new Date(reclaimAt).toISOString()}; the part is handed back to the queue to run elsewhere`;
    this.name = 'SpotInterruptionError';
  }
}

/** Thrown (as the abort reason of `ctx.signal`) when the part's job was cancelled (its completion queue is gone). */
export class PartCancelledError extends Error {
  constructor(readonly completionQueueUrl: string) {
    super(`the completion queue ${completionQueueUrl} no longer exists: the job was cancelled`);
    this.name = 'PartCancelledError';
  }
}

/** A straggler's other attempt won (`speculate`): this one is aborted, with no result posted. */
export class PartWonElsewhereError extends Error {
  constructor(readonly part: number, readonly attempt: number, readonly winner: number) {
    super(`part ${part}: attempt ${winner} finished first elsewhere; attempt ${attempt} is no longer needed`);
    this.name = 'PartWonElsewhereError';
  }
}

/** Thrown when a `--tasks` module cannot be loaded or does not export task definitions. */
export class TaskModuleError extends Error {
  constructor(readonly modulePath: string, message: string, options?: { cause?: unknown }) {
    super(`cannot load tasks from '${modulePath}': ${message}`, options);
    this.name = 'TaskModuleError';
  }
}

/** Thrown when fleet worker options are invalid; the message says which option and what is allowed. */
export class FleetWorkerOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetWorkerOptionsError';
  }
}
