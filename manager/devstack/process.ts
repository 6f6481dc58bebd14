import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { pollUntil } from './wait';

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S …": the state letter follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * True when pid is alive and its command line contains `marker`: a pid file can outlive its
 * process and the pid be reused by someone else's, which we must never signal.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return true; // no /proc (not Linux): the pid file is all we have
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function removeFile(file: string): void {
  fs.rmSync(file, { force: true });
}

export interface DetachedCommand {
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a server in its own process group (so `down` can signal the group), its output
 * appended to logFile, its pid written to pidFile. The caller does not wait for it to exit.
 */
export function spawnDetached(command: DetachedCommand, logFile: string, pidFile: string): ChildProcess {
  fs.appendFileSync(logFile, `\n--- ${new Date().toISOString()} ${command.file} ${command.args.join(' ')}\n`);
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid !== undefined) fs.writeFileSync(pidFile, `${child.pid}\n`);
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal); // not a group leader after all
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process group, then SIGKILL if it is still alive after gracefulMs. True when it is gone. */
export async function stopProcessGroup(pid: number, gracefulMs = 10_000): Promise<boolean> {
  signalGroup(pid, 'SIGTERM');
  if (await pollUntil(async () => !isAlive(pid), { timeoutMs: gracefulMs })) return true;
  signalGroup(pid, 'SIGKILL');
  return pollUntil(async () => !isAlive(pid), { timeoutMs: 5_000 });
}
