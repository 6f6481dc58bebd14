import fs from 'node:fs';
import path from 'node:path';
import { TaskModuleError } from './errors';
import { isTaskDefinition, type TaskDefinition } from './task';

/**
 * Loads a user's task module (`--tasks`): compiled JavaScript whose default export, `tasks` export
 * or `module.exports` is an array of `defineTask(…)` results. Relative paths resolve against `cwd`;
 * anything else is resolved like a package name from `cwd`.
 */
export function loadTaskModule(spec: string, cwd: string = process.cwd()): TaskDefinition[] {
  const file = resolveModule(spec, cwd);
  if (/\.(ts|mts|cts|tsx)$/.test(file)) {
    throw new TaskModuleError(spec, 'TypeScript modules are not supported: compile it to JavaScript (e.g. with tsc) and pass the .js file');
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } catch (err) {
    throw new TaskModuleError(spec, `loading ${file} failed: ${(err as Error).message}`, { cause: err });
  }
  const m = mod as { default?: unknown; tasks?: unknown } | unknown[];
  const list = Array.isArray(m) ? m : (m?.default ?? m?.tasks);
  if (!Array.isArray(list)) {
    throw new TaskModuleError(spec, 'it must export an array of defineTask(…) results as its default export or as `tasks`');
  }
  list.forEach((t, i) => {
    if (!isTaskDefinition(t)) throw new TaskModuleError(spec, `item ${i} of its task list is not a defineTask(…) result`);
  });
  return list as TaskDefinition[];
}

function resolveModule(spec: string, cwd: string): string {
  const relative = spec.startsWith('.') || path.isAbsolute(spec);
  try {
    if (relative) {
      const file = path.resolve(cwd, spec);
      // Report .ts by name even when it exists, before require.resolve tries other extensions.
      if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
      return require.resolve(file);
    }
    return require.resolve(spec, { paths: [cwd] });
  } catch (err) {
    throw new TaskModuleError(spec, `no such module (resolved against ${cwd})`, { cause: err });
  }
}
