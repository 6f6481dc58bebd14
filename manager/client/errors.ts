import type { JobStatus } from '../../store/jobs';

/** Thrown when an operation does not apply to a job in its current status (pausing a finished job, results of a running one, retrying one with no failed parts). */
export class JobStateError extends Error {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
    message: string,
  ) {
    super(message);
    this.name = 'JobStateError';
  }
}

/** Thrown when a submit's input cannot be used: a missing path, an empty folder, an S3 location outside the configured bucket. */
export class JobInputError extends Error {
  constructor(
    readonly input: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobInputError';
  }
}

/** Thrown when a pipeline argument is neither a readable file nor definition text. */
export class PipelineSourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PipelineSourceError';
  }
}

/** Thrown when a schedule id is not known to Temporal (`reason` 'not-found'), or when creating one whose id is taken ('exists'). */
export class ScheduleError extends Error {
  constructor(
    readonly scheduleId: string,
    readonly reason: 'not-found' | 'exists',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScheduleError';
  }
}

/** Thrown for an argument the client refuses before doing anything (bad job id, limit, cursor, date). */
export class InvalidOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOptionError';
  }
}

/** Thrown when a submit's job id is held by another submit in progress, or names a job with a different definition or input; nothing was uploaded. */
export class JobIdTakenError extends InvalidOptionError {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`job id ${jobId} is already being submitted (or exists): ${reason}; nothing uploaded`);
    this.name = 'JobIdTakenError';
  }
}

/** Thrown when Temporal refused to start a submitted job's workflow; the job was rolled back, so its id can be submitted again. */
export class JobStartError extends Error {
  constructor(
    readonly jobId: string,
    options: { cause: unknown },
  ) {
    super(`job ${jobId} could not be started: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}; it was rolled back, so the id can be used again`, options);
    this.name = 'JobStartError';
  }
}
