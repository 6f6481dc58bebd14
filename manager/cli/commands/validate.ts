import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { compilePipeline, describePipeline, formatProblem, topologicalOrder, type Problem, type SourceFormat } from '../../../pipeline';
import { sourceProblem } from '../../../pipeline/limits';

/** Where `validate` writes; tests pass buffers. */
export interface ValidateIo {
  out(text: string): void;
  err(text: string): void;
  readFile(file: string): Promise<string>;
  /** Size of the file in bytes, asked before reading it so a file over the limit is never read. Default: none (the text is measured after reading). */
  fileSize?(file: string): Promise<number>;
}

/** A file's size in bytes, from the file system (not read). */
export const fileSizeOf = async (file: string): Promise<number> => (await stat(file)).size;

const processIo: ValidateIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readFile: (file) => readFile(file, 'utf8'),
  fileSize: fileSizeOf,
};

/** `.json` → json, `.yaml`/`.yml` → yaml, anything else: decided by the content. */
function formatOf(file: string): SourceFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/**
 * Validates one definition file. Returns the exit code: 0 valid (summary on stdout), 1 invalid
 * (every problem as `FILE:LINE: path: message` on stderr), 2 unreadable.
 */
export async function validateFile(file: string, options: { json?: boolean }, io: ValidateIo = processIo): Promise<number> {
  let text: string;
  try {
    const tooLarge = io.fileSize ? sourceProblem(await io.fileSize(file)) : undefined;
    if (tooLarge) return printProblems([{ path: '', message: tooLarge.message }], file, options, io);
    text = await io.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : err instanceof Error ? err.message : String(err);
    if (options.json) io.out(`${JSON.stringify({ ok: false, file, error: `cannot read ${file}: ${reason}` }, null, 2)}\n`);
    else io.err(`batchgrid validate: cannot read ${file}: ${reason}\n`);
    return 2;
  }

  const result = compilePipeline(text, formatOf(file));
  if (result.ok) {
    const order = topologicalOrder(result.pipeline).map((stage) => stage.id);
    if (options.json) io.out(`${JSON.stringify({ ok: true, file, order, pipeline: result.pipeline }, null, 2)}\n`);
    else io.out(`${file}: valid\n${describePipeline(result.pipeline)}\n`);
    return 0;
  }
  return printProblems(result.problems, file, options, io);
}

/** Prints the problems of an invalid file (JSON on stdout, or one line each on stderr); returns exit code 1. */
function printProblems(problems: Problem[], file: string, options: { json?: boolean }, io: ValidateIo): number {
  if (options.json) {
    io.out(`${JSON.stringify({ ok: false, file, problems }, null, 2)}\n`);
  } else {
    const count = problems.length;
    io.err(`${problems.map((problem) => formatProblem(problem, file)).join('\n')}\n${count} problem${count === 1 ? '' : 's'} in ${file}\n`);
  }
  return 1;
}

/** `batchgrid validate FILE [--json]`. */
export function register(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline definition (YAML or JSON): print its stages in order, or every problem with its line')
    .argument('<file>', 'pipeline definition (.yaml, .yml or .json; other names are detected by content)')
    .option('--json', 'print the compiled pipeline, or the problems, as JSON on stdout')
    .action(async (file: string, options: { json?: boolean }) => {
      process.exitCode = await validateFile(file, options);
    });
}
