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

/** Thrown when a schedule id is not known to Temporal, or when creating one whose id is taken. */
export class ScheduleError extends Error {
  constructor(
    readonly scheduleId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScheduleError';
  }
}

/** Thrown for an argument the client refuses before doing anything (bad job id, limit, cursor, date). */
export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}
