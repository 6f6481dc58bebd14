import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Thrown when an install or admin command exits non-zero; carries the tail of its output. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly outputTail: string,
  ) {
    super(`\`${command}\` exited with ${exitCode ?? 'a signal'}${outputTail ? `:\n${outputTail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

export interface RunOptions {
  /** File the command's stdout and stderr are appended to. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion with its output appended to a log file; throws CommandFailedError on failure. */
export async function runLogged(file: string, args: string[], options: RunOptions): Promise<void> {
  const shown = [file, ...args].join(' ');
  fs.appendFileSync(options.logFile, `\n$ ${shown}  # ${new Date().toISOString()}\n`);
  const fd = fs.openSync(options.logFile, 'a');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    if (code !== 0) throw new CommandFailedError(shown, code, tailOf(options.logFile));
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs a command and returns its stdout; throws CommandFailedError with its stderr on failure. */
export function capture(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = typeof err.code === 'number' ? err.code : null;
      reject(new CommandFailedError([file, ...args].join(' '), code, (stderr || err.message).trim()));
    });
  });
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(name: string, pathVar: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The last lines of a log file (empty when it does not exist). */
export function tailOf(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** True when this process may install system packages with apt-get. */
export const canAptInstall = (): boolean => process.getuid?.() === 0 && which('apt-get') !== undefined;

let aptUpdated = false;
/** `apt-get update` once per process, then `apt-get install -y` the packages. */
export async function aptInstall(packages: string[], logFile: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await runLogged('apt-get', ['update'], { logFile, env });
    aptUpdated = true;
  }
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { logFile, env });
}
