import fs from 'node:fs';

export interface MemoryTracker {
  /** The highest resident memory seen, in MiB. */
  peakMiB(): number;
  stop(): void;
}

/**
 * Samples a process's resident memory every `intervalMs`; `peakMiB()` is the highest seen. A process
 * the benchmark started reads its VmHWM (the kernel's own peak, so nothing between samples is
 * missed); a shared service that outlives the run (`lifetimePeak: false`) reads only VmRSS, so its
 * figure belongs to this run and not to whatever it did before.
 */
export function trackMemory(pid: number, options: { intervalMs?: number; lifetimePeak?: boolean } = {}): MemoryTracker {
  const { intervalMs = 200, lifetimePeak = true } = options;
  let peakKiB = 0;
  const sample = () => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = lifetimePeak ? /VmHWM:\s+(\d+) kB/.exec(status) : null;
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      peakKiB = Math.max(peakKiB, Number(hwm?.[1] ?? 0), Number(rss?.[1] ?? 0));
    } catch {
      // The process has exited: keep the last reading.
    }
  };
  // A sampler never keeps its process alive: a run abandoned before its `stop()` leaves nothing open.
  const timer = setInterval(sample, intervalMs).unref();
  sample();
  return {
    peakMiB: () => {
      sample();
      return Math.round(peakKiB / 1024);
    },
    stop: () => clearInterval(timer),
  };
}

/** Trackers for a set of named processes; `peaks()` reads them all at once. */
export function trackAll(pids: Record<string, number>, options?: { lifetimePeak?: boolean }) {
  const trackers = Object.entries(pids).map(([name, pid]) => [name, trackMemory(pid, options)] as const);
  return {
    peaks: (): Record<string, number> => Object.fromEntries(trackers.map(([name, t]) => [name, t.peakMiB()])),
    stop: () => trackers.forEach(([, t]) => t.stop()),
  };
}
