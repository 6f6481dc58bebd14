import { JobNotFoundError, PipelineValidationError, ServiceUnavailableError } from '../../../common/errors';
import { formatProblem } from '../../../pipeline/problems';

/**
 * The text the CLI prints for an error, without the `batchgrid:` prefix. A definition's problems
 * come one per line, `FILE:LINE: path: message`, as `batchgrid validate` prints them.
 */
export function describeError(err: unknown, context: { file?: string } = {}): string {
  if (err instanceof JobNotFoundError) return `job ${err.jobId} not found`;
  if (err instanceof PipelineValidationError) {
    const n = err.problems.length;
    const where = context.file ? ` in ${context.file}` : '';
    return `${n} problem${n === 1 ? '' : 's'}${where}:\n${err.problems.map((p) => `  ${formatProblem(p, context.file)}`).join('\n')}`;
  }
  if (err instanceof ServiceUnavailableError) {
    const cause = err.cause as { message?: string; code?: string } | undefined;
    const why = cause?.code ?? cause?.message;
    return why ? `${err.message} (${firstLine(why)})` : err.message;
  }
  const pgCode = (err as { code?: unknown } | null)?.code;
  if (pgCode === '42P01') return 'the database has no batchgrid tables yet: run `batchgrid db migrate`';
  return err instanceof Error ? err.message : String(err);
}

const firstLine = (text: string) => text.split('\n')[0]!;
