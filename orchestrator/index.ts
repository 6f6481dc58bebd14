/**
 * The orchestrator has a folder of its own because it is not part of the fleet runtime: it needs
 * Postgres and Temporal's worker, and the fleet (`worker/`) must need neither. Lint keeps it so.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../common/aws';
import { config } from '../common/config';
import { createLogger } from '../common/logger';
import { createActivities } from '../activities';
import { createPool } from '../store/db';
import { compactAfterMs, startCompactionSweep } from './compaction-sweep';

export interface OrchestratorOptions {
  /** Temporal task queue. Default: config BATCHGRID_TASK_QUEUE. */
  taskQueue?: string;
  /** A pre-built workflow bundle (`bundleWorkflowCode` output, see `batchgrid orchestrator --bundle`) instead of bundling at start-up. */
  workflowBundlePath?: string;
  db?: Pool;
  aws?: AwsClients;
  /** Prefix of queue names. Default: config BATCHGRID_QUEUE_PREFIX. */
  queuePrefix?: string;
  /** Stage activities this worker runs at once. Default: 200. */
  maxConcurrentActivities?: number;
  /** Compact finished jobs this long after they end, in ms; null: never (store/compaction.ts). Default: config BATCHGRID_COMPACT_AFTER (1h). */
  compactAfterMs?: number | null;
}

/** Path of the workflows module the bundler starts from (works from ts sources and from dist). */
export const workflowsPath = require.resolve('../workflows');

/**
 * The orchestrator: a Temporal worker for the batchJob workflow and its activities. Returns
 * the worker and a `close()` that releases what this function opened.
 */
export async function createOrchestrator(options: OrchestratorOptions = {}): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const cfg = config();
  const log = createLogger('orchestrator');
  const db = options.db ?? createPool();
  const aws = options.aws ?? createAwsClients();
  const compactAfter = options.compactAfterMs === undefined ? compactAfterMs(cfg.BATCHGRID_COMPACT_AFTER) : (options.compactAfterMs ?? undefined);
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const workflowSource: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> = options.workflowBundlePath
    ? { workflowBundle: { codePath: options.workflowBundlePath } }
    : { workflowsPath };
  const worker = await Worker.create({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: options.taskQueue ?? cfg.BATCHGRID_TASK_QUEUE,
    ...workflowSource,
    activities: createActivities({ db, aws, queuePrefix: options.queuePrefix ?? cfg.BATCHGRID_QUEUE_PREFIX, log, bucket: cfg.BATCHGRID_BUCKET }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 200,
    // A cancel reaches a stage activity only through a heartbeat's reply: send them every second
    // (the default throttle is 80% of the heartbeat timeout, which would delay a cancel by ~24 s).
    maxHeartbeatThrottleInterval: '1 second',
  });
  const stopCompaction = compactAfter === undefined ? async () => undefined : startCompactionSweep(db, compactAfter, log);
  return {
    worker,
    close: async () => {
      await stopCompaction();
      await connection.close();
      if (!options.db) await db.end();
      if (!options.aws) destroyAwsClients(aws);
    },
  };
}
