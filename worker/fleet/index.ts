/** The fleet worker runtime: see fleet-worker.ts. */
export { createFleetWorker, FleetWorker, type FleetWorkerEvents, type PartEvent } from './fleet-worker';
export { compileFleetWorkerOptions, type FleetWorkerOptions } from './options';
export { ensureFleetQueues, type FleetQueues } from '../../common/sqs/queues';
export type { WorkerCounters } from './events';
