/**
 * The pipeline definition language: compile YAML/JSON into a `PipelineDef`, walk its stage DAG,
 * describe it. Everything here is pure, but this index pulls in `yaml` and `zod` through
 * `compile`; workflows should import `./dag`, `./units` and `./types` directly to keep their
 * bundle small.
 */
export type { ChainMode, CompileResult, PipelineDef, Problem, RetryPolicy, SplitSpec, StageDef, Tolerance } from './types';
export { compilePipeline, compilePipelineObject, loadPipeline } from './compile';
export { describePipeline, describeSplit } from './describe';
export { dependentsOf, downstreamOf, finalStages, findCycles, formatCycle, readyStages, rootStages, topologicalOrder } from './dag';
export type { Dag, DagStage } from './dag';
export { formatPath, formatProblem } from './problems';
export * as limits from './limits';
export { DEFAULT_FLEET, DEFAULT_MANIFEST_KEY, LIMITS, PipelineSchema } from './schema';
export { detectFormat } from './source';
export type { SourceFormat } from './source';
export { formatDuration, formatSize, parseDuration, parseSize, UnitParseError } from './units';
