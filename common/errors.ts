/** Thrown when a pipeline definition is invalid; carries every problem with its path. */
export class PipelineValidationError extends Error {
  constructor(readonly problems: { path: string; message: string; line?: number }[]) {
    super(`Invalid pipeline: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'PipelineValidationError';
  }
}

/** Thrown by a task handler (or the runtime) when retrying the part cannot help: bad input, unknown task, bad params. */
export class PermanentTaskError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}

/** Thrown when a job id is not known to the store or to Temporal. */
export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} not found`);
    this.name = 'JobNotFoundError';
  }
}

/** Thrown when a job has no such stage, or its stage run no such part (not planned, or not sent yet); the message says which. */
export class PartNotFoundError extends Error {
  constructor(readonly jobId: string, readonly stageId: string, readonly part: number, message: string) {
    super(message);
    this.name = 'PartNotFoundError';
  }
}

/** Thrown when a local service (Temporal, Postgres, SQS, S3) does not answer; says how to start it. */
export class ServiceUnavailableError extends Error {
  constructor(readonly service: string, readonly endpoint: string, options?: { cause?: unknown }) {
    super(`${service} is not reachable at ${endpoint}. Start the local stack with \`batchgrid dev up\` (or point the configuration at a running ${service}).`, options);
    this.name = 'ServiceUnavailableError';
  }
}

/** The message of any thrown value, for logs and error fields. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
