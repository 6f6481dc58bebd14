/**
 * Thrown when a service of the local stack cannot be installed, started, reached or stopped.
 * The message names the service, its log file and what to do.
 */
export class DevStackError extends Error {
  constructor(
    readonly service: string,
    readonly problem: string,
    readonly hint: string,
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(`${service}: ${problem}${logFile ? ` (log: ${logFile})` : ''}. ${hint}`, options);
    this.name = 'DevStackError';
  }
}
