import { JobNotFoundError, PartNotFoundError, PipelineValidationError, ServiceUnavailableError } from '../../../common/errors';
import { FleetValidationError } from '../../../grid/errors';
import { formatProblem } from '../../../pipeline/problems';

/**
 * The text the CLI prints for an error, without the `batchgrid:` prefix. A definition's problems
 * (a pipeline's or a fleet's) come one per line, `FILE:LINE: path: message`, as `batchgrid
 * validate` prints them; a service that does not answer, with why (the network error's code, or
 * the server's own words: bad password, no such database).
 */
export function describeError(err: unknown, context: { file?: string } = {}): string {
  if (err instanceof JobNotFoundError) return `job ${err.jobId} not found`;
  if (err instanceof PartNotFoundError) return err.message;
  if (err instanceof PipelineValidationError || err instanceof FleetValidationError) {
    const n = err.problems.length;
    const where = context.file ? ` in ${context.file}` : '';
    return `${n} problem${n === 1 ? '' : 's'}${where}:\n${err.problems.map((p) => `  ${formatProblem(p, context.file)}`).join('\n')}`;
  }
  if (err instanceof ServiceUnavailableError) {
    const cause = err.cause as { message?: string; code?: unknown } | undefined;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    const why = code && /^E[A-Z]+$/.test(code) ? code : cause?.message || code;
    return why ? `${err.message} (${firstLine(why)})` : err.message;
  }
  const pgCode = (err as { code?: unknown } | null)?.code;
  if (pgCode === '42P01') return 'the database has no batchgrid tables yet: run `batchgrid db migrate`';
  return err instanceof Error ? err.message : String(err);
}

const firstLine = (text: string) => text.split('\n')[0]!;
