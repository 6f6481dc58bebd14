import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between two checks, in ms. Default: 100. */
  intervalMs?: number;
  /** Called before each check; an error it returns ends the wait at once (e.g. the process exited). */
  abort?: () => Error | undefined;
}

/** Polls `check` until it returns true (→ true) or the deadline passes (→ false). */
export async function pollUntil(check: () => Promise<boolean>, options: PollOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted) throw aborted;
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(Math.min(options.intervalMs ?? 100, Math.max(0, deadline - Date.now())));
  }
}

/** True when something accepts TCP connections on host:port. */
export function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when an HTTP server answers at url, whatever the status. */
export async function httpAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Seconds with one decimal, for progress lines. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
