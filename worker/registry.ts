import type { TaskDefinition } from './task';

/** The handlers a worker can run, by task name. */
export interface TaskRegistry {
  get(name: string): TaskDefinition | undefined;
  /** Registered names, sorted (for error messages and logs). */
  readonly names: readonly string[];
}

/** Builds a registry; a name registered twice is refused with both places named. */
export function createTaskRegistry(tasks: readonly TaskDefinition[]): TaskRegistry {
  const byName = new Map<string, TaskDefinition>();
  for (const task of tasks) {
    if (byName.has(task.name)) throw new Error(`task '${task.name}' is registered twice (a --tasks module may not redefine a built-in or repeat a name)`);
    byName.set(task.name, task);
  }
  const names = [...byName.keys()].sort();
  return { get: (name) => byName.get(name), names };
}
