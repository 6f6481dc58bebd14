/** The fleet worker runtime: see fleet-worker.ts. */
export { createFleetWorker, FleetWorker, type FleetWorkerEvents, type PartEvent } from './fleet-worker';
export { compileFleetWorkerOptions, type FleetWorkerOptions, type SpotOptions } from './options';
export { ensureFleetQueues, type FleetQueues } from '../../common/sqs/queues';
export type { WorkerCounters } from './events';
export type { SpotNotice } from './spot';
