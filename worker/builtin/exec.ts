import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MAX_ERROR_MESSAGE_CHARS } from '../fleet/runner';
import { defineTask, type PartInfo, type TaskContext, type TaskDefinition } from '../task';
import { commandProblems, expandCommand, missingVars } from './exec-argv';
import { CommandFailedError, PermanentCommandFailedError, ProgramNotRunnableError, type CommandEnd } from './exec-errors';
import { concatenated, downloadInputs, listOutputs, uploadOutputs } from './exec-files';
import { runCommand, tailText } from './exec-process';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VAR_NAME = /^[A-Za-z0-9_.-]+$/;
/** Fallback PATH when the worker has none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Longest `stdoutTail` once JSON-encoded, in characters: binary output escapes up to 6x, and a part's summary is limited to 16 KiB. */
const MAX_STDOUT_TAIL_JSON_CHARS = 8192;
/** Worker variables every command gets when the worker has them (locale and time zone only: no credentials). */
const ALWAYS_PASSED = ['LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'];

const relativeFile = z.string().refine((name) => name !== '' && !name.startsWith('/') && !name.split('/').some((s) => s === '' || s === '.' || s === '..'), {
  error: 'must be a relative file name below {outputDir}, without empty, "." or ".." segments (e.g. "out.txt")',
});

/** Params of the `exec` task (strict: an unknown key is refused). */
export const ExecParams = z
  .object({
    /** Program and arguments, never run through a shell. Placeholders: see exec-argv.ts. */
    command: z
      .array(z.string({ error: 'each argument must be a string' }), { error: 'must be a list: the program, then its arguments, e.g. ["sort", "{input}"]' })
      .min(1, { error: 'must name at least the program, e.g. ["sort", "{input}"]' })
      .refine((argv) => argv[0] !== '', { error: 'the program (first element) must not be empty' })
      .superRefine((argv, ctx) => {
        for (const p of commandProblems(argv)) ctx.addIssue({ code: 'custom', path: [p.index], message: p.message });
      }),
    /** Values for `{param:NAME}`. Default: none. */
    vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or a boolean' })).default({}),
    /** Extra environment variables of the program. Default: none. */
    env: z.record(z.string(), z.string({ error: 'must be a string (write numbers in quotes)' })).default({}),
    /** Names of the worker's own environment variables to pass on (nothing else is inherited but PATH and the locale). Default: none. */
    passEnv: z.array(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' })).default([]),
    /** `input`: the part's inputs, concatenated, on stdin; `none`: stdin is /dev/null. Default: none. */
    stdin: z.enum(['input', 'none']).default('none'),
    /** Save stdout as this file under {outputDir} (so it becomes an output). Default: keep its tail in the result. */
    stdoutFile: relativeFile.optional(),
    /** Bytes of stderr kept for the error of a failed part (its end). Default: 4096. */
    maxStderrBytes: z.number().int().min(0).max(65_536).default(4096),
    /** Bytes of stdout returned as `stdoutTail` (its end); 0 for none. Default: 1024. */
    maxStdoutBytes: z.number().int().min(0).max(8192).default(1024),
    /** Exit codes a retry cannot fix: the part fails at once. Default: [126, 127] (not executable, not found). */
    permanentExitCodes: z.array(z.number().int().min(1).max(255)).default([126, 127]),
    cwd: z.never({ error: 'cannot be set: the command runs in a private scratch folder; write outputs under {outputDir}' }).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const name of Object.keys(p.vars)) {
      if (!VAR_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['vars', name], message: 'names in vars are letters, digits, "_", "." or "-"' });
    }
    for (const name of Object.keys(p.env)) {
      if (!ENV_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['env', name], message: 'environment variable names are letters, digits and "_", not starting with a digit' });
    }
    for (const problem of missingVars(p.command, Object.keys(p.vars))) {
      ctx.addIssue({ code: 'custom', path: ['command', problem.index], message: problem.message });
    }
  });
export type ExecParams = z.infer<typeof ExecParams>;

/** The part's summary. */
export interface ExecResult {
  exitCode: number;
  /** Files uploaded from {outputDir}. */
  outputs: number;
  /** The end of stdout (at most maxStdoutBytes), when it had any and was not saved to a file. */
  stdoutTail?: string;
}

/** Options of `createExecTask`. */
export interface ExecTaskOptions {
  /** Task name. Default: `exec`. */
  name?: string;
  /** Programs (argv[0] after expansion, compared as written) the task may run. Default: any. */
  allowedPrograms?: readonly string[];
  /** Between SIGTERM and SIGKILL when a part is aborted, in ms. Default: 2000. */
  killGraceMs?: number;
}

/**
 * A task that runs a command over the part's inputs: downloads them to a private temporary
 * folder, runs the program (no shell, own process group), uploads what it wrote under
 * {outputDir}, and always removes the folder.
 */
export function createExecTask(options: ExecTaskOptions = {}): TaskDefinition<ExecParams, ExecResult> {
  return defineTask({
    name: options.name ?? 'exec',
    description: 'Runs a program (argument vector, no shell) over downloaded inputs; uploads what it writes to {outputDir}.',
    params: ExecParams,
    run: (part, ctx) => runExec(part, ctx, options),
  });
}

/** The built-in `exec` task: any program on the worker's PATH. */
export const exec = createExecTask();

async function runExec(part: PartInfo, ctx: TaskContext<ExecParams>, options: ExecTaskOptions): Promise<ExecResult> {
  const p = ctx.params;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-exec-'));
  try {
    await fs.chmod(root, 0o700);
    const dirs = { in: path.join(root, 'in'), out: path.join(root, 'out'), work: path.join(root, 'work'), tmp: path.join(root, 'tmp') };
    await Promise.all(Object.values(dirs).map((d) => fs.mkdir(d, { mode: 0o700 })));

    const inputs = await downloadInputs(ctx, dirs.in);
    const vars = Object.fromEntries(Object.entries(p.vars).map(([k, v]) => [k, String(v)]));
    const argv = expandCommand(p.command, { inputs, outputDir: dirs.out, part: part.part, attempt: part.attempt, jobId: part.jobId, stageId: part.stageId, vars });
    const program = argv[0];
    if (options.allowedPrograms && !options.allowedPrograms.includes(program)) {
      throw new ProgramNotRunnableError(program, `this worker only runs ${options.allowedPrograms.map((a) => `'${a}'`).join(', ')}`);
    }
    const stdoutFile = p.stdoutFile ? path.join(dirs.out, ...p.stdoutFile.split('/')) : undefined;
    if (stdoutFile) await fs.mkdir(path.dirname(stdoutFile), { recursive: true, mode: 0o700 });

    const started = Date.now();
    const outcome = await runCommand({
      argv,
      cwd: dirs.work,
      env: commandEnv(p, part, dirs),
      stdin: p.stdin === 'input' ? concatenated(inputs) : undefined,
      stdoutFile,
      maxStdoutBytes: p.maxStdoutBytes,
      maxStderrBytes: p.maxStderrBytes,
      signal: ctx.signal,
      killGraceMs: options.killGraceMs,
      onSpawn: (pid) => ctx.log.debug({ pid, program }, 'command started'),
    });
    ctx.log.debug({ pid: outcome.pid, exitCode: outcome.exitCode, signal: outcome.signal, ms: Date.now() - started }, 'command ended');
    if (outcome.aborted) throw ctx.signal.reason;
    if (outcome.exitCode !== 0) {
      throw commandFailure({ program, exitCode: outcome.exitCode, signal: outcome.signal, stderrTail: tailText(outcome.stderrTail) }, p.permanentExitCodes);
    }

    const { files, skipped } = await listOutputs(dirs.out);
    if (skipped.length) ctx.log.warn({ skipped }, 'not uploaded: symbolic links and special files in {outputDir}');
    await uploadOutputs(ctx, files);
    const stdoutTail = stdoutFile ? '' : fitJson(tailText(outcome.stdoutTail), MAX_STDOUT_TAIL_JSON_CHARS);
    return { exitCode: 0, outputs: files.length, ...(stdoutTail ? { stdoutTail } : {}) };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** The program's environment: PATH, the locale, a private HOME and TMPDIR, the part's ids, then `passEnv` and `env`. */
function commandEnv(p: ExecParams, part: PartInfo, dirs: { out: string; work: string; tmp: string }): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH };
  for (const name of [...ALWAYS_PASSED, ...p.passEnv]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    HOME: dirs.work,
    TMPDIR: dirs.tmp,
    BATCHGRID_JOB_ID: part.jobId,
    BATCHGRID_STAGE_ID: part.stageId,
    BATCHGRID_PART: String(part.part),
    BATCHGRID_ATTEMPT: String(part.attempt),
    BATCHGRID_OUTPUT_DIR: dirs.out,
  });
  return Object.assign(env, p.env);
}

/** The end of `text`, cut at its head until its JSON encoding fits in `maxChars`. */
export function fitJson(text: string, maxChars: number): string {
  let out = text;
  for (let size = JSON.stringify(out).length; size > maxChars; size = JSON.stringify(out).length) {
    out = out.slice(Math.max(1, out.length - Math.floor((out.length * maxChars) / size) + 1));
  }
  return out;
}

/** `command 'x' exited with code N: <stderr tail>`, cut at the head so the tail fits in a part's error. */
export function commandFailure(end: CommandEnd, permanentExitCodes: readonly number[]): CommandFailedError | PermanentCommandFailedError {
  const how = end.exitCode !== null ? `exited with code ${end.exitCode}` : `was killed by signal ${end.signal}`;
  const head = `command '${end.program}' ${how}`;
  let message = `${head} (no output on stderr)`;
  if (end.stderrTail) {
    const room = MAX_ERROR_MESSAGE_CHARS - head.length - 3;
    message = `${head}: ${end.stderrTail.length > room ? `…${end.stderrTail.slice(end.stderrTail.length - room + 1)}` : end.stderrTail}`;
  }
  const permanent = end.exitCode !== null && permanentExitCodes.includes(end.exitCode);
  return permanent ? new PermanentCommandFailedError(end, message) : new CommandFailedError(end, message);
}
