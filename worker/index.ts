/** The fleet worker's public surface: the task handler API and the runtime that runs handlers. */
export { PermanentTaskError } from '../common/errors';
export { defineTask, type OutputBody, type PartInfo, type TaskContext, type TaskDefinition, type TaskSpec } from './task';
export { InputNotFoundError, InvalidParamsError, ResultTooLargeError, TaskModuleError, TaskTimeoutError, UnknownTaskError } from './errors';
export { builtinTasks } from './builtin';
export { loadTaskModule } from './load-tasks';
export { createFleetWorker, ensureFleetQueues, FleetWorker, type FleetQueues, type FleetWorkerOptions } from './fleet';
