import { z } from 'zod';
import { MESSAGE_BUDGET_BYTES } from '../pipeline/limits';

/**
 * The wire contracts between the orchestrator and the fleet. Versioned (`v`) so both sides can
 * be upgraded independently; a body that fails these schemas is dead-lettered with its reason.
 * One message may carry several parts (packing), which keeps SQS calls per part low.
 */

/** A piece of input: an S3 object, or a byte range of it (`end` exclusive). */
export const InputRef = z.object({
  key: z.string().min(1),
  start: z.number().int().nonnegative().optional(),
  end: z.number().int().nonnegative().optional(),
  /** Size in bytes, when known (of the range if there is one). */
  bytes: z.number().int().nonnegative().optional(),
});
export type InputRef = z.infer<typeof InputRef>;

export const PartTask = z.object({
  part: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  /** Inputs inline… */
  inputs: z.array(InputRef).default([]),
  /** …or, when there are too many to inline (gather), the S3 key of a JSON Lines list of InputRef. */
  inputsKey: z.string().optional(),
  /** Where the handler's outputs go: `jobs/<job>/stages/<stage>/parts/<part>/`. */
  outputPrefix: z.string().min(1),
});
export type PartTask = z.infer<typeof PartTask>;

export const TaskMessage = z.object({
  v: z.literal(1),
  type: z.literal('task'),
  jobId: z.string().min(1),
  stageId: z.string().min(1),
  task: z.string().min(1),
  params: z.unknown(),
  bucket: z.string().min(1),
  completionQueueUrl: z.string().min(1),
  /** Per part attempt, in ms. */
  timeoutMs: z.number().int().positive(),
  /** Epoch ms when the orchestrator sent it (for queue-wait statistics). */
  sentAt: z.number().int(),
  /**
   * The stage runs backup attempts for stragglers: a worker running one of its parts for long
   * checks the part's won marker (common/layout.ts partWonKeyOf) and aborts an attempt that lost.
   */
  speculative: z.boolean().optional(),
  parts: z.array(PartTask).min(1),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

export const OutputRef = z.object({ key: z.string().min(1), bytes: z.number().int().nonnegative() });
export type OutputRef = z.infer<typeof OutputRef>;

export const TaskErrorInfo = z.object({
  message: z.string(),
  /** Error class name, e.g. PermanentTaskError, UnknownTaskError, TimeoutError. */
  type: z.string(),
  retryable: z.boolean(),
  /** The end of a command's stderr, for failures of the built-in `exec`. */
  stderrTail: z.string().optional(),
});
export type TaskErrorInfo = z.infer<typeof TaskErrorInfo>;

export const PartResult = z.object({
  part: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  status: z.enum(['succeeded', 'failed']),
  outputs: z.array(OutputRef).default([]),
  /** The handler's small JSON summary. */
  result: z.unknown().optional(),
  error: TaskErrorInfo.optional(),
  /** Epoch ms: the orchestrator sent the task, the worker received it, started and finished the part. */
  sentAt: z.number().int(),
  receivedAt: z.number().int(),
  startedAt: z.number().int(),
  finishedAt: z.number().int(),
  bytesIn: z.number().int().nonnegative().default(0),
  bytesOut: z.number().int().nonnegative().default(0),
  /** The version of the handler that ran it (`defineTask({ version })`): a cached part is keyed by it. */
  taskVersion: z.string().optional(),
  /** Set by the orchestrator on a part reused from the part cache: the run time of the attempt it reuses, in ms. */
  cachedRunMs: z.number().int().nonnegative().optional(),
});
export type PartResult = z.infer<typeof PartResult>;

/** The fields every message a worker posts on a stage run's completion queue starts with. */
const fromWorker = {
  v: z.literal(1),
  jobId: z.string(),
  stageId: z.string(),
  workerId: z.string(),
};

export const CompletionMessage = z.object({
  ...fromWorker,
  type: z.literal('completion'),
  results: z.array(PartResult).min(1),
});
export type CompletionMessage = z.infer<typeof CompletionMessage>;

/** A part a worker has started: deadlines count from here, and queue wait ends here. */
export const StartedPart = z.object({
  part: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  /** Epoch ms the handler started. */
  startedAt: z.number().int(),
});
export type StartedPart = z.infer<typeof StartedPart>;

/** "These parts have started", posted (batched) on the stage run's completion queue beside the results. */
export const StartedMessage = z.object({
  ...fromWorker,
  type: z.literal('started'),
  parts: z.array(StartedPart).min(1),
});
export type StartedMessage = z.infer<typeof StartedMessage>;

/** What a completion queue carries: results, and notices of parts started. */
export const StageRunMessage = z.discriminatedUnion('type', [CompletionMessage, StartedMessage]);
export type StageRunMessage = z.infer<typeof StageRunMessage>;

/** What a fleet worker reports about itself on the fleet events queue (no database on the fleet). */
export const WorkerEvent = z.object({
  v: z.literal(1),
  type: z.literal('worker'),
  event: z.enum(['start', 'heartbeat', 'stop']),
  workerId: z.string(),
  /** EC2 instance id, or host:pid for local workers. */
  instanceId: z.string(),
  fleet: z.string(),
  slots: z.number().int().nonnegative(),
  busySlots: z.number().int().nonnegative(),
  partsDone: z.number().int().nonnegative(),
  partsFailed: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
  /** ms the worker has been up, and ms it spent running parts (summed over slots). */
  uptimeMs: z.number().int().nonnegative(),
  busyMs: z.number().int().nonnegative(),
  at: z.number().int(),
});
export type WorkerEvent = z.infer<typeof WorkerEvent>;

/** The body written to a dead-letter queue for a message that could not be processed. */
export interface DeadLetter {
  reason: string;
  body: string;
  queueUrl: string;
  workerId: string;
  at: number;
}

/** SQS refuses bodies above 256 KiB; packing keeps well below it (the budget of pipeline/limits.ts). */
export const MAX_MESSAGE_BYTES = MESSAGE_BUDGET_BYTES;

/** Parses a JSON body against a schema; returns the reason on failure instead of throwing. */
export function parseBody<T>(schema: z.ZodType<T>, body: string | undefined): { ok: true; value: T } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
