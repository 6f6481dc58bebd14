import type { TaskDefinition } from '../task';
import { exec } from './exec';
import { linesCount, linesUpper } from './lines';
import { noop } from './noop';
import { sleepFail } from './sleep-fail';

/** Tasks every fleet worker registers: `noop`, `test.sleep-fail`, `lines.count`, `lines.upper`, `exec`. */
export const builtinTasks: readonly TaskDefinition[] = [noop, sleepFail, linesCount, linesUpper, exec] as TaskDefinition[];

export { exec, linesCount, linesUpper, noop, sleepFail };
