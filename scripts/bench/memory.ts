import fs from 'node:fs';

/** Samples a process's resident memory every `intervalMs`; `peakMiB()` is the highest seen (VmHWM when readable). */
export function trackMemory(pid: number, intervalMs = 200) {
  let peakKiB = 0;
  const sample = () => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      peakKiB = Math.max(peakKiB, Number(hwm?.[1] ?? 0), Number(rss?.[1] ?? 0));
    } catch {
      // The process has exited: keep the last reading.
    }
  };
  const timer = setInterval(sample, intervalMs);
  sample();
  return {
    peakMiB: () => {
      sample();
      return Math.round(peakKiB / 1024);
    },
    stop: () => clearInterval(timer),
  };
}
