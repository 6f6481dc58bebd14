import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes of the benchmark. Their stdout is piped (peers print their counts there) and their
 * stderr goes to the benchmark's stderr, so `--json` keeps stdout for the one JSON document.
 */
export function child(args: string[], env: Record<string, string> = {}): ChildProcess {
  const p = spawn(process.execPath, [...nodeFlags, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(p);
  p.once('exit', () => running.delete(p));
  return p;
}

const running = new Set<ChildProcess>();

/**
 * Stops every child still running. A system whose run was abandoned (a test's deadline passed while it
 * waited on a consumer) never reaches its own cleanup; this is the caller's way to end its children.
 */
export async function stopChildren(): Promise<void> {
  await Promise.all([...running].map(stop));
}

let nodeFlags: string[] = [];

/**
 * Node flags of every process `child` starts from now on (engine and peers alike, so each system
 * runs with the same heap settings): `--heap-mib` caps the V8 old space of each, `--cpu-prof` has each
 * write a CPU profile when it exits.
 */
export function setChildNodeFlags(flags: string[]): void {
  nodeFlags = [...flags];
}

/** Resolves with everything the process printed on stdout once it exits 0; rejects on another exit. */
export function stdoutOf(p: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.once('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${what} exited with ${code ?? signal}`))));
  });
}

/** Resolves once the process prints the line `ready` on stdout (its clients are loaded and connected). */
export function ready(p: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.split('\n').includes('ready')) {
        p.stdout!.off('data', onData);
        p.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited with ${code} before it was ready`));
    p.stdout!.on('data', onData);
    p.once('exit', onExit);
  });
}

/** The last line a process printed on stdout, parsed as JSON (the result line after any `ready`). */
export const lastJsonLine = <T>(out: string): T => JSON.parse(out.trim().split('\n').pop() ?? '') as T;

/** SIGTERM and wait for the exit; safe on a process that has already exited. */
export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

/** Polls `check` every 100 ms until it resolves true; a rejection counts as not yet. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Progress lines: always on stderr, so that stdout carries only the table or the JSON document. */
export const note = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
