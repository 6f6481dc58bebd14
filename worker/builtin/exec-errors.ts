import { PermanentTaskError } from '../../common/errors';

/**
 * Errors of the built-in `exec` task. Each class's `name` is the error `type` a failed part
 * reports; subclasses of PermanentTaskError are not retried.
 */

/** Thrown when a command template has an unknown placeholder, or a placeholder cannot be expanded for a part. */
export class PlaceholderError extends PermanentTaskError {
  constructor(message: string) {
    super(message);
    this.name = 'PlaceholderError';
  }
}

/** Thrown when the command's program does not exist on the worker (spawn ENOENT). */
export class ProgramNotFoundError extends PermanentTaskError {
  constructor(readonly program: string, readonly searchPath: string | undefined, options?: { cause?: unknown }) {
    super(`program '${program}' not found${program.includes('/') || searchPath === undefined ? '' : ` (searched PATH=${searchPath})`}`, options);
    this.name = 'ProgramNotFoundError';
  }
}

/** Thrown when the command's program cannot be started: not executable, or not allowed on this worker. */
export class ProgramNotRunnableError extends PermanentTaskError {
  constructor(readonly program: string, reason: string, options?: { cause?: unknown }) {
    super(`program '${program}' cannot be run: ${reason}`, options);
    this.name = 'ProgramNotRunnableError';
  }
}

/** What a failed command left behind: how it ended and the tail of its stderr. */
export interface CommandEnd {
  readonly program: string;
  /** Exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
}

/** Thrown when the command exits with a non-zero code (or is killed by a signal); retryable. */
export class CommandFailedError extends Error implements CommandEnd {
  readonly program: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  constructor(end: CommandEnd, message: string) {
    super(message);
    this.name = 'CommandFailedError';
    ({ program: this.program, exitCode: this.exitCode, signal: this.signal, stderrTail: this.stderrTail } = end);
  }
}

/** Thrown when the command exits with one of the stage's `permanentExitCodes`: a retry would fail the same way. */
export class PermanentCommandFailedError extends PermanentTaskError implements CommandEnd {
  readonly program: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  constructor(end: CommandEnd, message: string) {
    super(message);
    this.name = 'PermanentCommandFailedError';
    ({ program: this.program, exitCode: this.exitCode, signal: this.signal, stderrTail: this.stderrTail } = end);
  }
}

/**
 * Thrown when the fleet's exec policy refuses a stage's command before anything runs: a raw
 * command list on a fleet that does not allow one, an unknown template, a slot value that does not
 * fit its declaration, an environment name the template does not let a pipeline set.
 */
export class ExecRefusedError extends PermanentTaskError {
  constructor(message: string) {
    super(message);
    this.name = 'ExecRefusedError';
  }
}

/** Thrown when an exec policy (file or setting) cannot be loaded; names every problem by path, so a fleet worker refuses to start. */
export class ExecPolicyError extends Error {
  constructor(readonly source: string, readonly problems: readonly { path: string; message: string }[]) {
    super(`exec policy ${source} is not valid: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
    this.name = 'ExecPolicyError';
  }
}
