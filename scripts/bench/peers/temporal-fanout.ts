import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { config } from '../../../common/config';
import { distPath } from '../../../common/paths';
import { trackAll } from '../memory';
import { child, stop, waitUntil } from '../processes';
import type { BenchSystem } from '../system';
import type { benchFanOut } from './temporal-workflow';

export interface FanOutSetup {
  /** Worker processes (the engine's fleet worker count). */
  workers: number;
  /** Activity slots per worker (the fleet worker's concurrency). */
  slots: number;
  /** Activities in flight (the engine's window; Temporal caps pending activities at 2,000). */
  window: number;
  /** Parts a workflow run starts before it continues as new. */
  partsPerRun: number;
  /** The fan-out's workflow bundle (see `bundleFanOut`). */
  bundlePath: string;
}

/** Path of the fan-out workflow's module, for `bundleWorkflowCode`. */
export const fanOutWorkflowsPath = () => distPath('scripts/bench/peers/temporal-workflow.js');

/**
 * A hand-rolled Temporal fan-out on the engine's Temporal server: its own task queue, its own worker
 * processes (workflow and activity in each), one activity per part with a sliding window and
 * continue-as-new. Seconds run from starting the workflow to its result.
 */
export function temporalFanOut(setup: FanOutSetup, limits: { maxParts: number; capParts: number }): BenchSystem {
  return {
    id: 'temporalFanOut',
    label: 'Temporal fan-out',
    ...limits,
    async run(n) {
      const cfg = config();
      const taskQueue = `bench-fanout-${randomBytes(4).toString('hex')}`;
      const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
      const temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
      const procs = Array.from({ length: setup.workers }, () => child([distPath('scripts/bench/peers/temporal-worker.js'), taskQueue, setup.bundlePath, String(setup.slots)]));
      const memory = trackAll(Object.fromEntries(procs.map((p, i) => [`worker-${i + 1}`, p.pid!])));
      try {
        for (const type of [1, 2]) {
          await waitUntil(`the fan-out's workers to poll (task queue type ${type})`, async () => {
            const r = await temporal.workflowService.describeTaskQueue({ namespace: cfg.TEMPORAL_NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: type });
            return (r.pollers?.length ?? 0) >= setup.workers;
          });
        }
        const started = Date.now();
        const result = await temporal.workflow.execute<typeof benchFanOut>('benchFanOut', {
          taskQueue,
          workflowId: taskQueue,
          args: [{ parts: n, window: setup.window, partsPerRun: setup.partsPerRun, offset: 0, runsBefore: 0, eventsBefore: 0, completedBefore: 0 }],
        });
        const seconds = (Date.now() - started) / 1000;
        if (result.completed !== n) throw new Error(`the fan-out completed ${result.completed} activities for ${n} parts`);
        return { seconds, memoryMiB: memory.peaks(), historyEvents: result.historyEvents, workflowRuns: result.runs };
      } finally {
        memory.stop();
        await Promise.all(procs.map(stop));
        await connection.close();
      }
    },
  };
}
