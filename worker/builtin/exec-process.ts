import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProgramNotFoundError, ProgramNotRunnableError } from './exec-errors';

/** Options of `runCommand`. */
export interface RunCommandOptions {
  /** Program and arguments; never passed through a shell. */
  argv: readonly string[];
  cwd: string;
  /** The whole environment of the program (nothing is inherited). */
  env: Readonly<Record<string, string>>;
  /** Piped to the program's stdin; without it stdin is /dev/null. */
  stdin?: Readable;
  /** Write stdout to this file instead of keeping its tail. */
  stdoutFile?: string;
  /** Bytes of stdout kept (its end). */
  maxStdoutBytes: number;
  /** Bytes of stderr kept (its end). */
  maxStderrBytes: number;
  /** On abort: SIGTERM to the program's process group, SIGKILL after `killGraceMs`. */
  signal: AbortSignal;
  /** Between SIGTERM and SIGKILL after an abort, in ms. Default: 2000. */
  killGraceMs?: number;
  /** Called once the program runs, with its pid (= its process group id). */
  onSpawn?(pid: number): void;
}

/** How a command ended. */
export interface CommandOutcome {
  pid: number;
  /** Exit code, or null when a signal ended the program. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when `signal` aborted the run (the program was killed for it). */
  aborted: boolean;
  stdoutTail: Buffer;
  stderrTail: Buffer;
}

/** Streams still open this long after the program and its group are gone are closed by force, in ms. */
const STDIO_DRAIN_MS = 2000;

/**
 * Runs a program in its own process group (`detached`, no shell) and waits for it. On abort the
 * whole group gets SIGTERM, then SIGKILL after the grace period; when the program exits, whatever
 * is left of its group (background children) is SIGKILLed, so nothing outlives the part.
 * Rejects with ProgramNotFoundError / ProgramNotRunnableError when the program cannot start.
 */
export async function runCommand(o: RunCommandOptions): Promise<CommandOutcome> {
  const { argv, signal } = o;
  if (signal.aborted) throw signal.reason;
  const program = argv[0];
  const child = spawn(program, argv.slice(1), {
    cwd: o.cwd,
    env: { ...o.env },
    detached: true,
    shell: false,
    windowsHide: true,
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });

  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
  const started = await new Promise<{ ok: true } | { ok: false; err: NodeJS.ErrnoException }>((resolve) => {
    child.once('spawn', () => resolve({ ok: true }));
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, err }));
  });
  if (!started.ok) {
    const { err } = started;
    if (err.code === 'ENOENT') throw new ProgramNotFoundError(program, o.env.PATH, { cause: err });
    if (err.code === 'EACCES') throw new ProgramNotRunnableError(program, 'permission denied (not executable?)', { cause: err });
    throw new ProgramNotRunnableError(program, err.message, { cause: err });
  }
  const pid = child.pid!;
  o.onSpawn?.(pid);

  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: the group is already gone, which is the point.
    }
  };

  const stderr = new Tail(o.maxStderrBytes);
  const stdout = new Tail(o.maxStdoutBytes);
  const stderrDone = collect(child.stderr!, stderr);
  const stdoutDone = o.stdoutFile ? pipeline(child.stdout!, createWriteStream(o.stdoutFile, { mode: 0o600 })) : collect(child.stdout!, stdout);
  let stdinError: unknown;
  const stdinDone = o.stdin
    ? pipeline(o.stdin, child.stdin!).catch((err: NodeJS.ErrnoException) => {
        // The program may exit without reading all of stdin (head, grep -q): that is its right.
        if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_PREMATURE_CLOSE' && err.code !== 'ERR_STREAM_DESTROYED') stdinError = err;
      })
    : Promise.resolve();

  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    aborted = true;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), o.killGraceMs ?? 2000);
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const [exitCode, exitSignal] = await exited;
  signal.removeEventListener('abort', onAbort);
  clearTimeout(killTimer);
  // Background processes of the command would hold its pipes and its temporary folder: end them.
  killGroup('SIGKILL');

  const drained = await Promise.race([
    Promise.allSettled([stdoutDone, stderrDone, stdinDone]).then((r) => r),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STDIO_DRAIN_MS).unref()),
  ]);
  if (drained === 'timeout') {
    // A process that left the group (setsid) still holds a pipe; stop waiting for it.
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.stdin?.destroy();
    o.stdin?.destroy();
  } else {
    const failed = drained.find((r) => r.status === 'rejected');
    if (failed && !aborted) throw (failed as PromiseRejectedResult).reason;
  }
  if (stdinError !== undefined && !aborted) throw stdinError;
  return { pid, exitCode, signal: exitSignal, aborted, stdoutTail: stdout.bytes(), stderrTail: stderr.bytes() };
}

async function collect(stream: Readable, tail: Tail): Promise<void> {
  for await (const chunk of stream) tail.push(chunk as Buffer);
}

/** Keeps the last `max` bytes pushed into it. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes pushed in total. */
  total = 0;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.max <= 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * this.max) this.compact();
  }

  bytes(): Buffer {
    this.compact();
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.max ? all.subarray(all.length - this.max) : all;
    this.chunks = kept.length ? [Buffer.from(kept)] : [];
    this.size = kept.length;
  }
}

/** A tail as text: starts at a character boundary (no half UTF-8 sequence), trailing whitespace trimmed. */
export function tailText(buf: Buffer): string {
  let start = 0;
  while (start < buf.length && start < 4 && (buf[start] & 0xc0) === 0x80) start += 1;
  return buf.subarray(start).toString('utf8').trimEnd();
}
