import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_ERROR_MESSAGE_CHARS } from '../fleet/runner';
import { defineTask, type PartInfo, type TaskContext, type TaskDefinition } from '../task';
import { expandCommand } from './exec-argv';
import { DEFAULT_PATH } from './exec-env';
import { CommandFailedError, PermanentCommandFailedError, type CommandEnd } from './exec-errors';
import { concatenated, downloadInputs, listOutputs, uploadOutputs } from './exec-files';
import { ExecParams } from './exec-params';
import { NO_EXEC_POLICY, planCommand, type CommandPlan, type ExecPolicy } from './exec-policy';
import { runCommand, tailText } from './exec-process';

/** Longest `stdoutTail` once JSON-encoded, in characters: binary output escapes up to 6x, and a part's summary is limited to 16 KiB. */
const MAX_STDOUT_TAIL_JSON_CHARS = 8192;
/** Worker variables every command gets when the worker has them (locale and time zone only: no credentials). */
const ALWAYS_PASSED = ['LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'];

export { ExecParams };

/** Name prefix of a part's scratch folder (one per attempt, under the OS temp folder). */
export const EXEC_SCRATCH_PREFIX = 'bg-exec-';

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
  /** What the task runs: the fleet's templates, and whether raw command lists are allowed (exec-policy.ts). Default: NO_EXEC_POLICY (templates only, and none declared). */
  policy?: ExecPolicy;
  /** Between SIGTERM and SIGKILL when a part is aborted, in ms. Default: 2000. */
  killGraceMs?: number;
}

/**
 * A task that runs a command over the part's inputs: checks it against the exec policy (a
 * template's slots, or raw argv where allowed), downloads the inputs to a private temporary
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

/** The built-in `exec` task without a policy: it refuses every command, saying how a fleet owner configures one. */
export const exec = createExecTask();

async function runExec(part: PartInfo, ctx: TaskContext<ExecParams>, options: ExecTaskOptions): Promise<ExecResult> {
  const p = ctx.params;
  // Refused before anything is downloaded: a policy refusal is permanent and needs no inputs.
  const plan = planCommand(options.policy ?? NO_EXEC_POLICY, p);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), EXEC_SCRATCH_PREFIX));
  try {
    await fs.chmod(root, 0o700);
    const dirs = { in: path.join(root, 'in'), out: path.join(root, 'out'), work: path.join(root, 'work'), tmp: path.join(root, 'tmp') };
    await Promise.all(Object.values(dirs).map((d) => fs.mkdir(d, { mode: 0o700 })));

    const inputs = await downloadInputs(ctx, dirs.in);
    const argv = expandCommand(plan.command, { inputs, outputDir: dirs.out, part: part.part, attempt: part.attempt, jobId: part.jobId, stageId: part.stageId, vars: plan.vars, slots: plan.slots });
    const program = argv[0];
    const stdoutFile = p.stdoutFile ? path.join(dirs.out, ...p.stdoutFile.split('/')) : undefined;
    if (stdoutFile) await fs.mkdir(path.dirname(stdoutFile), { recursive: true, mode: 0o700 });

    const started = Date.now();
    const outcome = await runCommand({
      argv,
      cwd: dirs.work,
      env: commandEnv(plan, part, dirs),
      stdin: plan.stdin === 'input' ? concatenated(inputs) : undefined,
      stdoutFile,
      maxStdoutBytes: p.maxStdoutBytes,
      maxStderrBytes: p.maxStderrBytes,
      signal: ctx.signal,
      killGraceMs: options.killGraceMs,
      onSpawn: (pid) => ctx.log.debug({ pid, program, template: plan.template }, 'command started'),
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

/** The program's environment: the worker's PATH, the locale, `passEnv`, then a private HOME and TMPDIR, the part's ids, and the plan's `env` (which can replace none of PATH, HOME, TMPDIR: exec-env.ts). */
function commandEnv(plan: CommandPlan, part: PartInfo, dirs: { out: string; work: string; tmp: string }): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH };
  for (const name of [...ALWAYS_PASSED, ...plan.passEnv]) {
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
  return Object.assign(env, plan.env);
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
