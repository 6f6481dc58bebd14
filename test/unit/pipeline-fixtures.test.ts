import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePipeline } from '../../pipeline/compile';
import { topologicalOrder } from '../../pipeline/dag';
import type { CompileResult, PipelineDef } from '../../pipeline/types';

const root = join(__dirname, '..', '..');
const compileFile = (file: string): CompileResult => compilePipeline(readFileSync(join(root, file), 'utf8'));

function ok(result: CompileResult): PipelineDef {
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n'));
  return result.pipeline;
}

function listed(file: string): string[] {
  const result = compileFile(file);
  if (result.ok) throw new Error(`${file} compiled`);
  return result.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
}

describe('examples', () => {
  test('claims: validate -> price (stream) -> summarize (gather), 5000 lines per part', () => {
    const pipeline = ok(compileFile('examples/claims/pipeline.yaml'));
    expect(pipeline.name).toBe('claims-monthly');
    expect(pipeline.input.split).toEqual({ by: 'lines', size: 5000 });
    expect(pipeline.stages.map(({ id, task, needs, chain, gather }) => ({ id, task, needs, chain, gather }))).toEqual([
      { id: 'validate', task: 'claims.validate', needs: [], chain: 'barrier', gather: false },
      { id: 'price', task: 'claims.price', needs: ['validate'], chain: 'stream', gather: false },
      { id: 'summarize', task: 'claims.summarize', needs: ['price'], chain: 'barrier', gather: true },
    ]);
  });

  test('diamond: a -> b, a -> c, {b, c} -> d', () => {
    const pipeline = ok(compileFile('examples/diamond.yaml'));
    expect(pipeline.stages.map((s) => [s.id, s.needs])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['c', ['a']],
      ['d', ['b', 'c']],
    ]);
    expect(topologicalOrder(pipeline).map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('malformed fixtures', () => {
  test('bad-syntax.yaml: the YAML errors with their line', () => {
    expect(listed('test/fixtures/pipelines/bad-syntax.yaml')).toEqual([
      '8: : YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '8: : YAML syntax error: Nested mappings are not allowed in compact mappings',
      '8: : YAML syntax error: Implicit keys need to be on a single line',
    ]);
  });

  test('bad-cycle.yaml: one problem naming the cycle', () => {
    expect(listed('test/fixtures/pipelines/bad-cycle.yaml')).toEqual(['7: stages[0].needs[0]: needs form a cycle: a -> b -> c -> a']);
  });

  test('bad-unknown-keys.yaml: unknown keys at three depths', () => {
    expect(listed('test/fixtures/pipelines/bad-unknown-keys.yaml')).toEqual([
      '4: colour: unknown key "colour"',
      '6: input.split.overlap: unknown key "overlap"',
      '10: stages[0].neds: unknown key "neds" (did you mean "needs"?)',
      '13: stages[0].retry.jitter: unknown key "jitter"',
    ]);
  });

  test('bad-many.yaml: every problem at once, each with path and line', () => {
    expect(listed('test/fixtures/pipelines/bad-many.yaml')).toEqual([
      '1: apiVersion: must be "batchgrid/v1" (got "batchgrid/v2")',
      '3: name: must be 1–63 lowercase letters, digits or dashes, starting with a letter (got "Many-Problems")',
      '4: concurrency: must be a whole number of parts between 1 and 100000 (got 0)',
      '8: stages[0].timeout: must be between 1s and 24h (got 48h)',
      '9: stages[1].id: duplicate stage id "fetch" (first used by stages[0])',
      '12: stages[2].task: must be 1–128 letters, digits, dots, dashes or underscores, e.g. "claims.validate" (got "claims price")',
      '13: stages[2].needs[1]: unknown stage "nowhere"',
      '14: stages[2].chain: chain: stream needs exactly one upstream stage in `needs` (has 2)',
      '17: stages[3].gather: gather needs at least one upstream stage in `needs` (a gather stage reads upstream outputs)',
      '18: stages[3].split.size: must be between 1KiB and 5GiB (got 10B)',
      '19: stages[3].retry.maxBackoff: must be at least backoff (10m), got 1m',
      '20: stages[3].tolerate.failedParts: must be a count (whole number >= 0) or a percentage between 0% and 100% (got "150%")',
    ]);
  });
});
