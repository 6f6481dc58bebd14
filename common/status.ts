/**
 * batchgrid's status vocabularies, declared once: the words the workflow, the store, the client,
 * the API and the CLI use for jobs, stages and parts. Each is an `as const` array; its type is
 * derived from it here, and zod enums from it where schemas need them (`z.enum(JOB_STATUSES)`).
 * The database holds the same words in CHECK constraints (store/migrations), which a unit test
 * compares with these arrays. Pure data: safe to import from workflows.
 */

/** A job: `scheduled` until its workflow starts, then running (or paused) until it ends. */
export const JOB_STATUSES = ['scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Whether `value` (a query parameter, a CLI option) is a job status. */
export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

/** A stage of a job: `pending` until its needs allow it to start, then planning (listing its parts), then running. */
export const STAGE_STATUSES = ['pending', 'planning', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** The statuses a job or a stage never leaves. */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly (JobStatus & StageStatus)[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
/** TERMINAL_STATUSES typed for `.includes(job.status)`. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = TERMINAL_STATUSES;
/** TERMINAL_STATUSES typed for `.includes(stage.status)`. */
export const TERMINAL_STAGE_STATUSES: readonly StageStatus[] = TERMINAL_STATUSES;

/** Whether a job or stage status is one it never leaves. */
export function isTerminal(status: JobStatus | StageStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** How a stage gets its parts: from the job input, or chained from upstream (barrier, stream, gather). */
export const STAGE_MODES = ['barrier', 'stream', 'gather', 'input'] as const;
export type StageMode = (typeof STAGE_MODES)[number];

/**
 * A part's latest attempt, as task_runs stores it. `queued` is the stored word for "sent, no
 * completion yet": the part's message may still wait in SQS or already run on a worker, which the
 * engine cannot tell apart. Progress therefore calls it *in flight*: see PART_COUNTS.
 */
export const PART_STATUSES = ['queued', 'retry_wait', 'succeeded', 'failed'] as const;
export type PartStatus = (typeof PART_STATUSES)[number];

/** Parts not settled yet: in flight, or failed and waiting out their retry backoff. */
export const OPEN_PART_STATUSES = ['queued', 'retry_wait'] as const satisfies readonly PartStatus[];
export type OpenPartStatus = (typeof OPEN_PART_STATUSES)[number];

/** Parts whose latest attempt is final. */
export const FINAL_PART_STATUSES = ['succeeded', 'failed'] as const satisfies readonly PartStatus[];
export type FinalPartStatus = (typeof FINAL_PART_STATUSES)[number];

/**
 * The name each part status is counted under wherever progress is shown (store/progress, the
 * client's progress view, the API, the CLI): the one place `queued` becomes `inFlight`.
 */
export const PART_COUNTS = {
  queued: 'inFlight',
  retry_wait: 'retryWaiting',
  succeeded: 'succeeded',
  failed: 'failed',
} as const satisfies Record<PartStatus, string>;
export type PartCountName = (typeof PART_COUNTS)[PartStatus];
