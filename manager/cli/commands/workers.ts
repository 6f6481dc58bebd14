import type { Command } from 'commander';
import type { WorkerStats } from '../../../grid/service';
import { listFleetWorkers } from '../../client/database';
import { formatElapsed, formatTable } from '../render/format';
import { runAction } from '../render/io';

/** The `batchgrid workers` table. */
export function renderWorkers(workers: WorkerStats[], now = Date.now()): string {
  if (workers.length === 0) return 'no live workers (fleet workers report through their fleet events queue, which the fleet autoscaler drains)\n';
  const rows = workers.map((w) => [
    w.workerId,
    w.fleet,
    w.instanceId,
    w.status,
    `${w.busySlots}/${w.slots}`,
    `${Math.round(w.load * 100)}%`,
    String(w.partsDone),
    String(w.partsFailed),
    // A live worker's uptime is as of its last event: count from its start instead.
    formatElapsed(w.status === 'up' ? now - w.startedAt.getTime() : w.uptimeMs),
    `${formatElapsed(now - w.lastSeenAt.getTime())} ago`,
  ]);
  return `${formatTable(['WORKER', 'FLEET', 'INSTANCE', 'STATUS', 'BUSY/SLOTS', 'LOAD', 'DONE', 'FAILED', 'UP', 'LAST SEEN'], rows)}\n`;
}

/** `batchgrid workers [--fleet F] [--all] [--json]`: fleet workers from their events (no database on the fleet). */
export function register(program: Command): void {
  program
    .command('workers')
    .description('live fleet workers: load (busy/slots), parts done and failed, last seen')
    .option('--fleet <name>', 'only this fleet')
    .option('--all', 'include stopped and lost workers')
    .option('--json', 'print as JSON')
    .action((o: { fleet?: string; all?: boolean; json?: boolean }) =>
      runAction(async () => {
        const workers = await listFleetWorkers({ fleet: o.fleet, all: o.all });
        process.stdout.write(o.json ? `${JSON.stringify(workers, null, 2)}\n` : renderWorkers(workers));
      }),
    );
}
