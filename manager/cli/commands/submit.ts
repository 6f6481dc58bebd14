import type { Command } from 'commander';
import { InvalidOptionError } from '../../client/errors';
import { resolvePipeline } from '../../client/pipeline-source';
import type { SubmitResult, UploadProgress } from '../../client';
import { formatBytes } from '../render/format';
import { processIo, printJson, runCommand, type CliIo } from '../render/io';
import { jobLine } from '../render/progress';
import { parseStartAt } from '../render/time';
import { exitCodeOf, watchJob } from './watch';

export interface SubmitCommandOptions {
  input: string;
  wait?: boolean;
  startAt?: string;
  jobId?: string;
  priority?: string;
  json?: boolean;
}

/** `batchgrid submit FILE --input PATH|s3://…`: returns the exit code. */
export async function submitCommand(file: string, opts: SubmitCommandOptions, io: CliIo = processIo): Promise<number> {
  return runCommand(
    io,
    async (ctx) => {
      // Arguments and the definition are checked before any service is needed.
      const startAt = opts.startAt !== undefined ? parseStartAt(opts.startAt) : undefined;
      const priority = opts.priority !== undefined ? parsePriority(opts.priority) : undefined;
      const pipeline = await resolvePipeline(file);
      const client = await ctx.client();
      const uploads = uploadReporter(io, !opts.json);
      const result = await client.submit(pipeline, { input: opts.input, startAt, jobId: opts.jobId, priority, onProgress: uploads.onProgress }).finally(uploads.finish);
      if (opts.json && !opts.wait) return void printJson(io, result);
      if (!opts.json) io.out(`${submittedText(result, pipeline.name, startAt)}\n`);
      if (!opts.wait) return 0;
      if (opts.json) {
        const summary = await client.wait(result.jobId);
        printJson(io, { ...result, summary });
        return exitCodeOf(summary.status);
      }
      const view = await watchJob(client, result.jobId, io);
      if (io.isTTY) io.out(`${jobLine(view)}\n`);
      return exitCodeOf(view.status);
    },
    { file },
  );
}

/** `--priority N`: a whole number (the client checks its range and names it). */
function parsePriority(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidOptionError(`--priority ${JSON.stringify(text)} must be a whole number (1 lowest, 100 highest)`);
  return Number(text);
}

/** What `submit` prints for a job it submitted (or found already submitted). */
export function submittedText(r: SubmitResult, pipeline: string, startAt?: Date): string {
  const head = r.created ? `job ${r.jobId} submitted: pipeline ${pipeline}` : `job ${r.jobId} already exists (${r.status}): nothing uploaded, nothing started`;
  const when = r.created && startAt && startAt.getTime() > Date.now() ? `, starts at ${startAt.toISOString()}` : '';
  return `${head}${when}\n  workflow ${r.workflowId}\n  follow it: batchgrid watch ${r.jobId}`;
}

/** Upload progress on stderr: one line rewritten in place on a terminal, nothing otherwise. */
function uploadReporter(io: CliIo, enabled: boolean): { onProgress?: (p: UploadProgress) => void; finish: () => void } {
  if (!enabled || !io.isTTY) return { finish: () => undefined };
  const loaded = new Map<string, number>();
  const totals = new Map<string, number>();
  return {
    onProgress(p) {
      loaded.set(p.file, p.loaded);
      totals.set(p.file, p.total);
      const done = [...loaded].filter(([f, n]) => n === totals.get(f)).length;
      const bytes = [...loaded.values()].reduce((a, b) => a + b, 0);
      io.err(`\ruploaded ${done}/${loaded.size} files, ${formatBytes(bytes)}\x1b[K`);
    },
    finish: () => {
      if (loaded.size > 0) io.err('\n');
    },
  };
}

/** `batchgrid submit`. */
export function register(program: Command): void {
  program
    .command('submit')
    .description('submit a pipeline over an input: upload a local file or folder (or read s3://…), record the job, start it')
    .argument('<file>', 'pipeline definition (YAML or JSON)')
    .requiredOption('--input <path>', 'local file or folder to upload, or s3://<bucket>/<prefix> in the configured bucket')
    .option('--wait', 'follow the job until it ends; exit 0 only if it succeeded')
    .option('--start-at <time>', 'start later: ISO time (2026-01-31T14:00:00Z) or +DURATION (+90s, +5m, +1h30m)')
    .option('--job-id <id>', 'job id (lowercase letters, digits, dashes), claimed before uploading; the same id, definition and input again returns that job, an id in use otherwise is refused')
    .option('--priority <n>', "the job's weight in its fleets' fair share, 1–100 (default: the pipeline's priority, else 1)")
    .option('--json', 'print { jobId, workflowId, status, created } (and the summary with --wait) as JSON only')
    .action(async (file: string, opts: SubmitCommandOptions) => {
      process.exitCode = await submitCommand(file, opts);
    });
}
