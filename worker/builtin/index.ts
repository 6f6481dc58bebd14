import type { TaskDefinition } from '../task';
import { linesCount, linesUpper } from './lines';
import { noop } from './noop';
import { sleepFail } from './sleep-fail';

/** Tasks every fleet worker registers: `noop`, `test.sleep-fail`, `lines.count`, `lines.upper`. */
export const builtinTasks: readonly TaskDefinition[] = [noop, sleepFail, linesCount, linesUpper] as TaskDefinition[];

export { linesCount, linesUpper, noop, sleepFail };
