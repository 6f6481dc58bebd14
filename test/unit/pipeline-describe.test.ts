import { compilePipeline } from '../../pipeline/compile';
import { describePipeline } from '../../pipeline/describe';
import type { PipelineDef } from '../../pipeline/types';

function compile(text: string): PipelineDef {
  const result = compilePipeline(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.pipeline;
}

describe('describePipeline', () => {
  test('stages in topological order with task, input, mode, timeout, retry and tolerance; edges; final stages', () => {
    const pipeline = compile(`apiVersion: batchgrid/v1
kind: Pipeline
name: claims
description: Monthly claims
fleet: gpu
concurrency: 500
input:
  split: { by: bytes, size: 64MiB }
stages:
  - id: report
    task: claims.report
    needs: [price, audit]
    gather: true
  - id: price
    task: claims.price
    needs: [validate]
    chain: stream
    retry: { attempts: 1 }
  - id: audit
    task: claims.audit
    needs: [validate, price]
    tolerate: { failedParts: 1 }
  - id: validate
    task: claims.validate
    timeout: 1h30m
    tolerate: { failedParts: "2.5%" }
    split: { by: manifest }
  - id: side
    task: noop
`);
    expect(describePipeline(pipeline)).toBe(
      [
        'pipeline claims (batchgrid/v1): 5 stages, fleet gpu, concurrency 500',
        '  Monthly claims',
        'input: 64MiB per part',
        'stages, in topological order:',
        '  1. validate  task claims.validate: reads the job input, one part per line of manifest.jsonl',
        '               timeout 1h30m, 3 attempts (backoff 10s doubling to 5m), tolerates 2.5% failed parts',
        '  2. price     task claims.price: streams from validate (a part per upstream part, as each succeeds)',
        '               timeout 15m, 1 attempt (backoff 10s doubling to 5m), tolerates 0 failed parts',
        '  3. audit     task claims.audit: after validate, price, joining their outputs by part number',
        '               timeout 15m, 3 attempts (backoff 10s doubling to 5m), tolerates 1 failed part',
        '  4. report    task claims.report: gathers all outputs of price, audit into one part',
        '               timeout 15m, 3 attempts (backoff 10s doubling to 5m), tolerates 0 failed parts',
        '  5. side      task noop: reads the job input, 64MiB per part',
        '               timeout 15m, 3 attempts (backoff 10s doubling to 5m), tolerates 0 failed parts',
        'edges:',
        '  validate -> price [stream]',
        '  validate -> audit [barrier]',
        '  price -> audit [barrier]',
        '  price -> report [gather]',
        '  audit -> report [gather]',
        'final: report, side',
      ].join('\n'),
    );
  });

  test('a single stage without description', () => {
    const pipeline = compile('apiVersion: batchgrid/v1\nkind: Pipeline\nname: one\nstages: [{ id: only, task: lines.count }]\n');
    expect(describePipeline(pipeline)).toBe(
      [
        'pipeline one (batchgrid/v1): 1 stage, fleet default, concurrency 100',
        'input: one part per object',
        'stages, in topological order:',
        '  1. only  task lines.count: reads the job input, one part per object',
        '           timeout 15m, 3 attempts (backoff 10s doubling to 5m), tolerates 0 failed parts',
        'edges: none',
        'final: only',
      ].join('\n'),
    );
  });
});
