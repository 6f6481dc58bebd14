import { PipelineValidationError } from '../common/errors';
import { definitionProblems, paramsProblems, sourceProblem, utf8Bytes } from './limits';
import { formatPath, type PathSegments, type RawProblem } from './problems';
import { ruleProblems } from './rules';
import { shapeProblems } from './schema';
import { parseSource, type SourceFormat } from './source';
import type { CompileResult, PipelineDef, Problem } from './types';

/**
 * Definition → `PipelineDef`: parse, check the shape, check the rules between stages, apply
 * defaults, convert units, check the size limits (`limits.ts`). Never throws on bad input: every problem is collected, with its path
 * and (from text) its line, so a user can fix them all in one go.
 */

function finish(raw: unknown, lineOf?: (path: PathSegments) => number | undefined): CompileResult {
  if (raw === null || raw === undefined) {
    const problem: Problem = { path: '', message: 'the definition is empty: expected a map with apiVersion, kind, name and stages' };
    return { ok: false, problems: [lineOf ? { ...problem, line: 1 } : problem] };
  }
  const shape = shapeProblems(raw);
  const raws: RawProblem[] = [...shape.problems, ...ruleProblems(raw), ...paramsProblems(raw)];
  if (raws.length === 0 && shape.pipeline) {
    const pipeline = withRootSplits(shape.pipeline);
    raws.push(...definitionProblems(pipeline));
    if (raws.length === 0) return { ok: true, pipeline };
  }

  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const raw of raws) {
    const path = formatPath(raw.path);
    const key = `${path}\n${raw.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const line = raw.line ?? lineOf?.(raw.path);
    problems.push(line === undefined ? { path, message: raw.message } : { path, message: raw.message, line });
  }
  // Array.prototype.sort is stable: problems on one line keep their order.
  if (lineOf) problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ok: false, problems };
}

/** Root stages read the job input: each gets its own `split` or the pipeline's `input.split`. */
function withRootSplits(pipeline: PipelineDef): PipelineDef {
  return {
    ...pipeline,
    stages: pipeline.stages.map((stage) => (stage.needs.length === 0 && stage.split === undefined ? { ...stage, split: { ...pipeline.input.split } } : stage)),
  };
}

/** Compiles definition text, YAML or JSON (`format` defaults to JSON when the text starts with `{`). */
export function compilePipeline(text: string, format?: SourceFormat): CompileResult {
  // Measured before parsing: a huge text must not reach the YAML parser.
  const tooLarge = sourceProblem(utf8Bytes(text));
  if (tooLarge) return { ok: false, problems: [{ path: '', message: tooLarge.message }] };
  const source = parseSource(text, format);
  if (source.problems.length > 0) {
    return { ok: false, problems: source.problems.map((p) => ({ path: formatPath(p.path), message: p.message, ...(p.line === undefined ? {} : { line: p.line }) })) };
  }
  return finish(source.value, source.lineOf);
}

/** Compiles an already parsed definition (e.g. a JSON request body); problems have paths but no lines. */
export function compilePipelineObject(obj: unknown): CompileResult {
  return finish(obj);
}

/** `compilePipeline`, throwing `PipelineValidationError` (with every problem) instead of returning them. */
export function loadPipeline(text: string, format?: SourceFormat): PipelineDef {
  const result = compilePipeline(text, format);
  if (!result.ok) throw new PipelineValidationError(result.problems);
  return result.pipeline;
}
