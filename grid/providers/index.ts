/** Sources of fleet capacity behind one interface: see provider.ts. */
export type { FleetCapacity, FleetInstance, FleetProvider, ScaleHints } from './provider';
export { AsgProvider, DEFAULT_LIFECYCLE_HOOK, type AsgProviderOptions } from './asg';
export { LocalProvider, type LocalProviderOptions } from './local';
export { StaticProvider, type StaticProviderOptions } from './static';
