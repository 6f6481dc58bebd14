import { defineTask } from '../task';

/** Does nothing; returns how many inputs the part had. For wiring checks and overhead benchmarks. */
export const noop = defineTask({
  name: 'noop',
  description: 'Does nothing; returns { inputs: n }.',
  run: (part) => ({ inputs: part.inputs.length }),
});
