import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Logger } from '../common/logger';
import type { InputRef, OutputRef } from '../common/messages';

/**
 * The task handler API: what a fleet worker calls for each part. A task module's default export
 * (or its `tasks` export) is an array of `defineTask(…)` results.
 */

/** What a handler knows about its part. `inputs` is resolved: an `inputsKey` list is already read from S3. */
export interface PartInfo {
  readonly jobId: string;
  readonly stageId: string;
  readonly part: number;
  /** 1 for the first attempt; the orchestrator increments it on retries. */
  readonly attempt: number;
  readonly inputs: readonly InputRef[];
  /** Where outputs go: `jobs/<job>/stages/<stage>/parts/<part>/`. */
  readonly outputPrefix: string;
}

/** A body `writeOutput` accepts: whole in memory, or streamed (multipart upload for large streams). */
export type OutputBody = string | Buffer | Uint8Array | Readable;

/** What a handler gets besides its part: params, cancellation, logging and streaming S3 access. */
export interface TaskContext<P = unknown> {
  /** The stage's params, parsed by the task's `params` schema. */
  readonly params: P;
  /** Aborted on timeout (reason: a `TimeoutError`), on cancellation of the job, or when the worker stops. */
  readonly signal: AbortSignal;
  /** A child logger with jobId, stageId, part and attempt fields. */
  readonly log: Logger;
  /** The job's bucket: inputs are read from it and outputs written to it. */
  readonly bucket: string;
  /** The worker's S3 client, for anything the helpers do not cover (bytes moved through it are not counted). */
  readonly s3: S3Client;
  /** The part's inputs (same as `part.inputs`). */
  readonly inputs: readonly InputRef[];
  /** How many times SQS has delivered this task message (1 on the first delivery). */
  readonly receiveCount: number;
  /** Streams one input (its byte range when it has one). Errors surface on the stream; a missing object is a permanent failure. */
  openInput(index?: number): Readable;
  /** Every input, one after the other, line by line (`\n` or `\r\n`; a last line without newline included). */
  lines(): AsyncGenerator<string>;
  /** Uploads `body` to `${outputPrefix}${name}` and records it as an output of the part; writing a name twice replaces it. */
  writeOutput(name: string, body: OutputBody, options?: { contentType?: string }): Promise<OutputRef>;
  /** The outputs written so far. */
  readonly outputs: readonly OutputRef[];
}

/** A registered task: its name, its params schema and its handler. */
export interface TaskDefinition<P = unknown, R = unknown> {
  readonly name: string;
  readonly description?: string;
  /**
   * The handler's version: part of a cached part's key (`cache: true` on a stage), so changing
   * what the handler computes (raise it) makes earlier results stale. Default: "1".
   */
  readonly version: string;
  readonly params: z.ZodType<P>;
  /** Returns a small JSON summary (at most 16 KiB serialised); throw PermanentTaskError for failures a retry cannot fix. */
  run(part: PartInfo, ctx: TaskContext<P>): Promise<R> | R;
}

/** What `defineTask` accepts: `params` defaults to `z.unknown()`. */
export interface TaskSpec<P, R> {
  name: string;
  description?: string;
  /** See TaskDefinition.version. Default: "1". */
  version?: string;
  params?: z.ZodType<P>;
  run(part: PartInfo, ctx: TaskContext<P>): Promise<R> | R;
}

/** Task names: letters, digits and `.`, `_`, `-`, `:` (e.g. `claims.validate`), at most 128 characters. */
export const TASK_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Declares a task handler; checks its name and shape at definition time. */
export function defineTask<P = unknown, R = unknown>(spec: TaskSpec<P, R>): TaskDefinition<P, R> {
  if (typeof spec?.name !== 'string' || !TASK_NAME_PATTERN.test(spec.name)) {
    throw new TypeError(`defineTask: name must match ${TASK_NAME_PATTERN} (got ${JSON.stringify(spec?.name)})`);
  }
  if (typeof spec.run !== 'function') throw new TypeError(`defineTask: task '${spec.name}' needs a run(part, ctx) function`);
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    version: spec.version ?? '1',
    params: spec.params ?? (z.unknown() as z.ZodType<P>),
    run: spec.run,
  });
}

/** True for values that look like `defineTask` results (also from another copy of this module). */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  const v = value as Partial<TaskDefinition> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.run === 'function' && typeof v.params?.safeParse === 'function';
}
