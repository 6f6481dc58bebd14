import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { PipelineValidationError } from '../../common/errors';
import { compilePipeline, compilePipelineObject } from '../../pipeline';
import { definitionProblems, sourceProblem } from '../../pipeline/limits';
import { formatPath } from '../../pipeline/problems';
import type { CompileResult, PipelineDef } from '../../pipeline/types';
import { PipelineSourceError } from './errors';

/**
 * A pipeline as callers give it: a compiled `PipelineDef`, a definition object as written (the
 * YAML/JSON shape), a file path, or definition text (YAML or JSON).
 */
export type PipelineInput = PipelineDef | Record<string, unknown> | string;

/** True for text that is a definition rather than a file name: several lines, or a JSON object. */
const looksLikeText = (s: string) => s.includes('\n') || s.trimStart().startsWith('{');

/** A compiled definition has every stage's timeout in ms; a definition as written has none of them. */
function isCompiled(obj: PipelineDef | Record<string, unknown>): obj is PipelineDef {
  const stages = (obj as { stages?: unknown }).stages;
  return Array.isArray(stages) && stages.length > 0 && stages.every((s) => typeof (s as { timeoutMs?: unknown })?.timeoutMs === 'number');
}

/**
 * Resolves and validates a pipeline; every problem of an invalid one is in the thrown
 * `PipelineValidationError`, an unreadable file is a `PipelineSourceError`.
 */
export async function resolvePipeline(input: PipelineInput): Promise<PipelineDef> {
  let result: CompileResult;
  if (typeof input !== 'string') {
    // A compiled definition skipped the compiler's checks; its sizes are checked here.
    if (isCompiled(input)) return withinLimits(input);
    result = compilePipelineObject(input);
  } else if (looksLikeText(input)) {
    result = compilePipeline(input);
  } else {
    let text: string;
    try {
      // By size first: a file over the limit is refused without being read.
      const tooLarge = sourceProblem((await stat(input)).size);
      if (tooLarge) throw new PipelineValidationError([{ path: '', message: tooLarge.message }]);
      text = await readFile(input, 'utf8');
    } catch (err) {
      if (err instanceof PipelineValidationError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new PipelineSourceError(input, `cannot read pipeline ${input}: ${reason}`, { cause: err });
    }
    const ext = extname(input).toLowerCase();
    result = compilePipeline(text, ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined);
  }
  if (!result.ok) throw new PipelineValidationError(result.problems);
  return result.pipeline;
}

/** A compiled definition, or a PipelineValidationError listing every size limit it is over. */
export function withinLimits(def: PipelineDef): PipelineDef {
  const problems = definitionProblems(def);
  if (problems.length > 0) throw new PipelineValidationError(problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
  return def;
}
