import { PipelineValidationError } from '../../common/errors';
import { compilePipeline, compilePipelineObject, loadPipeline } from '../../pipeline/compile';
import type { CompileResult, PipelineDef, Problem } from '../../pipeline/types';

const HEAD = 'apiVersion: batchgrid/v1\nkind: Pipeline\nname: test\n';

function ok(result: CompileResult): PipelineDef {
  if (!result.ok) throw new Error(`expected a valid pipeline, got:\n${result.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n')}`);
  return result.pipeline;
}

function problems(result: CompileResult): Problem[] {
  if (result.ok) throw new Error('expected problems, the pipeline compiled');
  return result.problems;
}

/** Problems as `line: path: message`, for exact comparison. */
function listed(text: string): string[] {
  return problems(compilePipeline(text)).map((p) => `${p.line ?? '-'}: ${p.path}: ${p.message}`);
}

/** A minimal valid raw definition with `stages`, for object-level tests. */
function raw(stages: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'test', stages, ...extra };
}

/** Problems of an object definition as `path: message`. */
function objectProblems(obj: unknown): string[] {
  return problems(compilePipelineObject(obj)).map((p) => `${p.path}: ${p.message}`);
}

describe('defaults and units', () => {
  test('a minimal stage gets every default', () => {
    const pipeline = ok(compilePipeline(`${HEAD}stages:\n  - id: only\n    task: noop\n`));
    expect(pipeline).toEqual({
      apiVersion: 'batchgrid/v1',
      kind: 'Pipeline',
      name: 'test',
      fleet: 'default',
      concurrency: 100,
      priority: 1,
      input: { split: { by: 'object' } },
      stages: [
        {
          id: 'only',
          task: 'noop',
          params: {},
          timeoutMs: 900_000,
          retry: { attempts: 3, backoffMs: 10_000, maxBackoffMs: 300_000 },
          tolerate: { failedParts: 0 },
          needs: [],
          chain: 'barrier',
          gather: false,
          split: { by: 'object' },
          fleet: 'default',
        },
      ],
    });
    expect('description' in pipeline).toBe(false);
  });

  test('every field set, units converted', () => {
    const pipeline = ok(
      compilePipeline(`${HEAD}description: All of it
fleet: big-fleet
concurrency: 1000
input:
  split: { by: manifest }
stages:
  - id: load
    task: my_tasks.load-v2
    params: { strict: true, list: [1, "two", null], nested: { x: 1.5 } }
    timeout: 1h30m
    retry: { attempts: 5, backoff: 500ms, maxBackoff: 2m }
    tolerate: { failedParts: "0.5%" }
    split: { by: bytes, size: 64MiB }
  - id: next
    task: noop
    needs: load
    chain: stream
    tolerate: { failedParts: 7 }
    retry: { backoff: 10m }
    fleet: gpu
    concurrency: 8
`),
    );
    expect(pipeline.description).toBe('All of it');
    expect(pipeline.fleet).toBe('big-fleet');
    expect(pipeline.concurrency).toBe(1000);
    expect(pipeline.input).toEqual({ split: { by: 'manifest', key: 'manifest.jsonl' } });
    expect(pipeline.stages[0]).toEqual({
      id: 'load',
      task: 'my_tasks.load-v2',
      params: { strict: true, list: [1, 'two', null], nested: { x: 1.5 } },
      timeoutMs: 5_400_000,
      retry: { attempts: 5, backoffMs: 500, maxBackoffMs: 120_000 },
      tolerate: { failedPercent: 0.5 },
      needs: [],
      chain: 'barrier',
      gather: false,
      split: { by: 'bytes', size: 67_108_864 },
      fleet: 'big-fleet',
    });
    // A single id for needs; a backoff above the default cap raises the cap; no split on a non-root.
    expect(pipeline.stages[1]).toEqual({
      id: 'next',
      task: 'noop',
      params: {},
      timeoutMs: 900_000,
      retry: { attempts: 3, backoffMs: 600_000, maxBackoffMs: 600_000 },
      tolerate: { failedParts: 7 },
      needs: ['load'],
      chain: 'stream',
      gather: false,
      fleet: 'gpu',
      concurrency: 8,
    });
  });

  test('plain numbers are milliseconds and bytes', () => {
    const pipeline = ok(
      compilePipelineObject(raw([{ id: 'a', task: 'noop', timeout: 2500, retry: { backoff: 0, maxBackoff: 1000 }, split: { by: 'bytes', size: 4096 } }])),
    );
    expect(pipeline.stages[0]!.timeoutMs).toBe(2500);
    expect(pipeline.stages[0]!.retry).toEqual({ attempts: 3, backoffMs: 0, maxBackoffMs: 1000 });
    expect(pipeline.stages[0]!.split).toEqual({ by: 'bytes', size: 4096 });
  });

  test('root stages inherit input.split unless they set their own; other stages get none', () => {
    const pipeline = ok(
      compilePipelineObject(
        raw(
          [
            { id: 'a', task: 'noop' },
            { id: 'b', task: 'noop', split: { by: 'lines', size: 10 } },
            { id: 'c', task: 'noop', needs: ['a', 'b'] },
          ],
          { input: { split: { by: 'manifest', key: 'parts/list.jsonl' } } },
        ),
      ),
    );
    expect(pipeline.stages.map((s) => s.split)).toEqual([{ by: 'manifest', key: 'parts/list.jsonl' }, { by: 'lines', size: 10 }, undefined]);
    expect('split' in pipeline.stages[2]!).toBe(false);
  });

  test('JSON text compiles to the same pipeline as YAML', () => {
    const yaml = `${HEAD}stages:\n  - id: a\n    task: noop\n    timeout: 5m\n  - id: b\n    task: noop\n    needs: [a]\n    gather: true\n`;
    const json = JSON.stringify(raw([{ id: 'a', task: 'noop', timeout: '5m' }, { id: 'b', task: 'noop', needs: ['a'], gather: true }]), null, 2);
    expect(ok(compilePipeline(json))).toEqual(ok(compilePipeline(yaml)));
    expect(ok(compilePipeline(json, 'json'))).toEqual(ok(compilePipeline(yaml, 'yaml')));
  });
});

describe('shape problems', () => {
  test('apiVersion and kind must be exact; name, fleet, stage id and task follow their patterns', () => {
    expect(
      objectProblems({
        apiVersion: 'batchgrid/v2',
        kind: 'pipeline',
        name: '1abc',
        fleet: 'Fleet_1',
        stages: [
          { id: 'a'.repeat(33), task: 'has space' },
          { id: 'ok-id', task: '' },
        ],
      }),
    ).toEqual([
      'apiVersion: must be "batchgrid/v1" (got "batchgrid/v2")',
      'kind: must be "Pipeline" (got "pipeline")',
      'name: must be 1–63 lowercase letters, digits or dashes, starting with a letter (got "1abc")',
      'fleet: must be 1–63 lowercase letters, digits or dashes, starting with a letter (got "Fleet_1")',
      `stages[0].id: must be 1–32 lowercase letters, digits or dashes, starting with a letter (got "${'a'.repeat(33)}")`,
      'stages[0].task: must be 1–128 letters, digits, dots, dashes or underscores, e.g. "claims.validate" (got "has space")',
      'stages[1].task: must be 1–128 letters, digits, dots, dashes or underscores, e.g. "claims.validate" (got "")',
    ]);
  });

  test('names accept the edges of their ranges', () => {
    const pipeline = ok(compilePipelineObject(raw([{ id: `s${'1'.repeat(31)}`, task: 'a' }], { name: `p${'-'.repeat(62)}` })));
    expect(pipeline.name).toHaveLength(63);
    expect(pipeline.stages[0]!.id).toHaveLength(32);
  });

  test('required fields and wrong types', () => {
    expect(objectProblems({ stages: [{ id: 'a', needs: [1], gather: 'yes', chain: 'fast' }, 'b'] })).toEqual([
      'apiVersion: is required: "batchgrid/v1"',
      'kind: is required: "Pipeline"',
      'name: is required',
      'stages[0].task: is required',
      'stages[0].needs: must be a list of stage ids',
      'stages[0].chain: must be one of "barrier", "stream" (got "fast")',
      'stages[0].gather: must be true or false, got the string "yes"',
      'stages[1]: must be a map, got the string "b"',
    ]);
  });

  test('at least one stage', () => {
    expect(objectProblems(raw([]))).toEqual(['stages: must list at least one stage']);
    expect(objectProblems({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'x' })).toEqual(['stages: is required']);
  });

  test('the definition must be a map', () => {
    expect(objectProblems([1, 2])).toEqual([': must be a map, got a list']);
    expect(objectProblems(null)).toEqual([': the definition is empty: expected a map with apiVersion, kind, name and stages']);
    expect(listed('')).toEqual(['1: : the definition is empty: expected a map with apiVersion, kind, name and stages']);
  });

  test('unknown keys are refused at every depth, one problem each, with a hint when close', () => {
    expect(
      objectProblems(
        raw([{ id: 'a', task: 'noop', neds: ['b'], retry: { attempts: 2, jitter: true }, tolerate: { failedPercent: 1 }, split: { by: 'object', size: 3 } }], {
          colour: 'blue',
          input: { split: { by: 'lines', size: 100, overlap: 2 }, format: 'csv' },
        }),
      ),
    ).toEqual([
      'input.split.overlap: unknown key "overlap"',
      'input.format: unknown key "format"',
      'stages[0].retry.jitter: unknown key "jitter"',
      'stages[0].tolerate.failedPercent: unknown key "failedPercent" (write a percentage as failedParts: "5%")',
      'stages[0].split.size: unknown key "size"',
      'stages[0].neds: unknown key "neds" (did you mean "needs"?)',
      'colour: unknown key "colour"',
    ]);
  });

  test('concurrency range', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'noop' }], { concurrency: 0 }))).toEqual(['concurrency: must be a whole number of parts between 1 and 100000 (got 0)']);
    expect(objectProblems(raw([{ id: 'a', task: 'noop' }], { concurrency: 100_001 }))).toEqual(['concurrency: must be a whole number of parts between 1 and 100000 (got 100001)']);
    expect(objectProblems(raw([{ id: 'a', task: 'noop' }], { concurrency: 2.5 }))).toEqual(['concurrency: must be a whole number of parts between 1 and 100000 (got 2.5)']);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop' }], { concurrency: 100_000 }))).concurrency).toBe(100_000);
  });

  test('durations: range in the message, unit errors explained', () => {
    const stage = (fields: Record<string, unknown>) => objectProblems(raw([{ id: 'a', task: 'noop', ...fields }]));
    expect(stage({ timeout: '500ms' })).toEqual(['stages[0].timeout: must be between 1s and 24h (got 500ms)']);
    expect(stage({ timeout: '25h' })).toEqual(['stages[0].timeout: must be between 1s and 24h (got 25h)']);
    expect(stage({ timeout: 30 })).toEqual(['stages[0].timeout: must be between 1s and 24h (got 30ms)']);
    expect(stage({ timeout: '5 minutes' })).toEqual([
      'stages[0].timeout: invalid duration "5 minutes": use numbers with units d, h, m, s, ms in that order, e.g. "30s", "5m", "1h30m", "500ms"',
    ]);
    expect(stage({ timeout: true })).toEqual(['stages[0].timeout: must be a duration like "30s", "5m" or "1h30m" (or a number of milliseconds)']);
    expect(stage({ retry: { backoff: '25h', maxBackoff: '2d' } })).toEqual([
      'stages[0].retry.backoff: must be between 0s and 24h (got 25h)',
      'stages[0].retry.maxBackoff: must be between 0s and 24h (got 48h)',
    ]);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop', timeout: '1s' }]))).stages[0]!.timeoutMs).toBe(1000);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop', timeout: '1d' }]))).stages[0]!.timeoutMs).toBe(86_400_000);
  });

  test('retry attempts range', () => {
    const attempts = (n: unknown) => objectProblems(raw([{ id: 'a', task: 'noop', retry: { attempts: n } }]));
    expect(attempts(0)).toEqual(['stages[0].retry.attempts: must be a whole number of attempts between 1 and 100 (got 0)']);
    expect(attempts(101)).toEqual(['stages[0].retry.attempts: must be a whole number of attempts between 1 and 100 (got 101)']);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop', retry: { attempts: 1 } }]))).stages[0]!.retry.attempts).toBe(1);
  });

  test('split: kinds and sizes with their ranges', () => {
    const split = (s: unknown) => objectProblems(raw([{ id: 'a', task: 'noop' }], { input: { split: s } }));
    expect(split({ by: 'rows' })).toEqual(['input.split.by: must be one of "object", "lines", "bytes", "manifest" (got "rows")']);
    expect(split({ size: 5 })).toEqual(['input.split.by: is required: one of "object", "lines", "bytes", "manifest"']);
    expect(split({ by: 'lines', size: 0 })).toEqual(['input.split.size: must be a whole number of lines between 1 and 10000000 (got 0)']);
    expect(split({ by: 'lines', size: 10_000_001 })).toEqual(['input.split.size: must be a whole number of lines between 1 and 10000000 (got 10000001)']);
    expect(split({ by: 'lines' })).toEqual(['input.split.size: is required']);
    expect(split({ by: 'bytes', size: '1023B' })).toEqual(['input.split.size: must be between 1KiB and 5GiB (got 1023B)']);
    expect(split({ by: 'bytes', size: '6GiB' })).toEqual(['input.split.size: must be between 1KiB and 5GiB (got 6GiB)']);
    expect(split({ by: 'bytes', size: '64M' })[0]).toMatch(/^input\.split\.size: invalid size "64M": use a number with a unit B, KB, MB/);
    expect(split({ by: 'manifest', key: '../other/jobs.jsonl' })).toEqual([
      `input.split.key: must be a relative key under the job's input prefix, without empty or ".." segments (got "../other/jobs.jsonl")`,
    ]);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop' }], { input: { split: { by: 'bytes', size: '1KiB' } } }))).input.split).toEqual({ by: 'bytes', size: 1024 });
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop' }], { input: { split: { by: 'bytes', size: '5GiB' } } }))).input.split).toEqual({ by: 'bytes', size: 5 * 2 ** 30 });
  });

  test('tolerate: a count or a percentage 0–100%', () => {
    const tolerate = (value: unknown) => compilePipelineObject(raw([{ id: 'a', task: 'noop', tolerate: { failedParts: value } }]));
    expect(ok(tolerate(0)).stages[0]!.tolerate).toEqual({ failedParts: 0 });
    expect(ok(tolerate(12)).stages[0]!.tolerate).toEqual({ failedParts: 12 });
    expect(ok(tolerate('0%')).stages[0]!.tolerate).toEqual({ failedPercent: 0 });
    expect(ok(tolerate('100%')).stages[0]!.tolerate).toEqual({ failedPercent: 100 });
    expect(ok(tolerate('2.5%')).stages[0]!.tolerate).toEqual({ failedPercent: 2.5 });
    const message = (value: unknown) => problems(tolerate(value)).map((p) => `${p.path}: ${p.message}`);
    expect(message(-1)).toEqual(['stages[0].tolerate.failedParts: must be a count (whole number >= 0) or a percentage like "0.5%" (got -1)']);
    expect(message(1.5)).toEqual(['stages[0].tolerate.failedParts: must be a count (whole number >= 0) or a percentage like "0.5%" (got 1.5)']);
    expect(message('100.1%')).toEqual(['stages[0].tolerate.failedParts: must be a count (whole number >= 0) or a percentage between 0% and 100% (got "100.1%")']);
    expect(message('5')).toEqual(['stages[0].tolerate.failedParts: must be a count (whole number >= 0) or a percentage between 0% and 100% (got "5")']);
  });

  test('params must be JSON', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'noop', params: { when: new Date(0), list: [1, Number.NaN], fn: () => 1 } }]))).toEqual([
      'stages[0].params.when: must be JSON: a Date cannot be sent to a worker',
      'stages[0].params.list[1]: must be JSON: NaN is not a finite number',
      'stages[0].params.fn: must be JSON: a function cannot be sent to a worker',
    ]);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop', params: 'just a string' }]))).stages[0]!.params).toBe('just a string');
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'noop', params: null }]))).stages[0]!.params).toBeNull();
  });
});

describe('rules between stages', () => {
  test('duplicate stage ids name the duplicate', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'x' }, { id: 'b', task: 'x' }, { id: 'a', task: 'x' }]))).toEqual([
      'stages[2].id: duplicate stage id "a" (first used by stages[0])',
    ]);
  });

  test('needs must name another existing stage, once', () => {
    expect(
      objectProblems(
        raw([
          { id: 'fetch', task: 'x' },
          { id: 'b', task: 'x', needs: ['b', 'fecth', 'fetch', 'fetch', 'zzz'] },
          { id: 'c', task: 'x', needs: 'nope' },
        ]),
      ),
    ).toEqual([
      'stages[1].needs[0]: stage "b" cannot need itself',
      'stages[1].needs[1]: unknown stage "fecth" (did you mean "fetch"?)',
      'stages[1].needs[3]: "fetch" is listed twice',
      'stages[1].needs[4]: unknown stage "zzz"',
      'stages[2].needs: unknown stage "nope"',
    ]);
  });

  test('a cycle is one problem naming its stages, on the need that closes it', () => {
    expect(
      objectProblems(
        raw([
          { id: 'root', task: 'x' },
          { id: 'a', task: 'x', needs: ['root', 'c'] },
          { id: 'b', task: 'x', needs: ['a'] },
          { id: 'c', task: 'x', needs: ['b'] },
          { id: 'x', task: 'x', needs: ['y'] },
          { id: 'y', task: 'x', needs: ['x'] },
        ]),
      ),
    ).toEqual(['stages[1].needs[1]: needs form a cycle: a -> b -> c -> a', 'stages[4].needs[0]: needs form a cycle: x -> y -> x']);
  });

  test('gather needs an upstream', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'x', gather: true }]))).toEqual([
      'stages[0].gather: gather needs at least one upstream stage in `needs` (a gather stage reads upstream outputs)',
    ]);
  });

  test('stream needs exactly one upstream and no gather', () => {
    expect(
      objectProblems(
        raw([
          { id: 'a', task: 'x' },
          { id: 'b', task: 'x' },
          { id: 'none', task: 'x', chain: 'stream' },
          { id: 'two', task: 'x', chain: 'stream', needs: ['a', 'b'] },
          { id: 'gathered', task: 'x', chain: 'stream', needs: ['a'], gather: true },
        ]),
      ),
    ).toEqual([
      'stages[2].chain: chain: stream needs exactly one upstream stage in `needs` (has 0)',
      'stages[3].chain: chain: stream needs exactly one upstream stage in `needs` (has 2)',
      'stages[4].chain: chain: stream cannot be combined with gather: true (a gather stage waits for all upstream parts)',
    ]);
  });

  test('split only on stages without needs', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'x' }, { id: 'b', task: 'x', needs: ['a'], split: { by: 'object' } }]))).toEqual([
      'stages[1].split: split is only allowed on stages without needs (a stage with needs reads its upstream outputs)',
    ]);
  });

  test('maxBackoff must be at least backoff', () => {
    expect(objectProblems(raw([{ id: 'a', task: 'x', retry: { backoff: '1m', maxBackoff: '30s' } }]))).toEqual([
      'stages[0].retry.maxBackoff: must be at least backoff (1m), got 30s',
    ]);
    expect(ok(compilePipelineObject(raw([{ id: 'a', task: 'x', retry: { backoff: '1m', maxBackoff: '1m' } }]))).stages[0]!.retry.maxBackoffMs).toBe(60_000);
  });

  test('several needs without gather is a valid join', () => {
    const pipeline = ok(compilePipelineObject(raw([{ id: 'a', task: 'x' }, { id: 'b', task: 'x' }, { id: 'c', task: 'x', needs: ['a', 'b'] }])));
    expect(pipeline.stages[2]).toMatchObject({ needs: ['a', 'b'], chain: 'barrier', gather: false });
  });
});

describe('problems from text', () => {
  test('every problem at once, in line order, each with its path and line', () => {
    const text = `apiVersion: batchgrid/v1
kind: Pipeline
name: bad
concurrency: 0
stages:
  - id: a
    task: noop
    timeout: 2s5
    extra: 1
  - id: b
    task: noop
    needs:
      - a
      - ghost
    chain: stream
    gather: true
  - id: a
    task: noop
`;
    expect(listed(text)).toEqual([
      '4: concurrency: must be a whole number of parts between 1 and 100000 (got 0)',
      '8: stages[0].timeout: invalid duration "2s5": use numbers with units d, h, m, s, ms in that order, e.g. "30s", "5m", "1h30m", "500ms"',
      '9: stages[0].extra: unknown key "extra"',
      '14: stages[1].needs[1]: unknown stage "ghost"',
      '15: stages[1].chain: chain: stream cannot be combined with gather: true (a gather stage waits for all upstream parts)',
      '17: stages[2].id: duplicate stage id "a" (first used by stages[0])',
    ]);
  });

  test('a missing key is reported on the line of the map that lacks it', () => {
    expect(listed(`apiVersion: batchgrid/v1\nkind: Pipeline\nname: x\nstages:\n  - id: a\n    task: noop\n  - id: b\n    needs: [a]\n`)).toEqual([
      '7: stages[1].task: is required',
    ]);
  });

  test('a cycle is reported on the line of the need that closes it', () => {
    expect(listed(`${HEAD}stages:\n  - id: a\n    needs: [b]\n    task: x\n  - id: b\n    task: x\n    needs:\n      - a\n`)).toEqual([
      '6: stages[0].needs[0]: needs form a cycle: a -> b -> a',
    ]);
  });

  test('a YAML syntax error is a problem with its line', () => {
    expect(listed(`${HEAD}stages:\n  - id: a\n    task: "noop\n`)).toEqual(['6: : YAML syntax error: Missing closing "quote']);
    expect(listed(`${HEAD}name: again\nstages: []\n`)).toEqual(['4: : YAML syntax error: Map keys must be unique']);
    // The unclosed string starts on line 2, although the parser only notices at the end.
    expect(listed(`apiVersion: batchgrid/v1\nkind: "Pipeline\nname: x\nstages: []\n`)).toEqual(['2: : YAML syntax error: Missing closing "quote']);
    expect(listed(`${HEAD}stages:\n  - id: a\n    needs: [b\n  - id: b\n`)[0]).toBe(
      '7: : YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
  });

  test('several YAML documents are refused', () => {
    expect(listed(`${HEAD}stages: [{ id: a, task: x }]\n---\n${HEAD}`)[0]).toMatch(/^5: : YAML syntax error: Source contains multiple documents/);
  });

  test('a JSON syntax error is a problem with its line', () => {
    expect(problems(compilePipeline('{\n  "apiVersion": "batchgrid/v1",\n  "kind": "Pipeline"\n  "name": "x"\n}'))).toEqual([
      { path: '', line: 4, message: "JSON syntax error: Expected ',' or '}' after property value in JSON at position 57" },
    ]);
  });

  test('JSON problems carry lines too', () => {
    const json = JSON.stringify(raw([{ id: 'a', task: 'noop', timeout: '0s' }]), null, 2);
    expect(problems(compilePipeline(json))).toEqual([{ path: 'stages[0].timeout', message: 'must be between 1s and 24h (got 0s)', line: 9 }]);
  });

  test('YAML 1.2: yes/no/on/off are strings, not booleans', () => {
    expect(listed(`${HEAD}stages:\n  - id: a\n    task: x\n    gather: yes\n`)).toEqual(['7: stages[0].gather: must be true or false, got the string "yes"']);
  });

  test('anchors and aliases work', () => {
    const pipeline = ok(
      compilePipeline(`${HEAD}stages:\n  - id: a\n    task: x\n    retry: &retry { attempts: 7 }\n  - id: b\n    task: x\n    retry: *retry\n`),
    );
    expect(pipeline.stages.map((s) => s.retry.attempts)).toEqual([7, 7]);
  });

  test('loadPipeline throws PipelineValidationError carrying every problem', () => {
    let thrown: unknown;
    try {
      loadPipeline(`${HEAD}concurrency: 0\nstages: []\n`);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PipelineValidationError);
    expect((thrown as PipelineValidationError).problems).toEqual([
      { path: 'concurrency', line: 4, message: 'must be a whole number of parts between 1 and 100000 (got 0)' },
      { path: 'stages', line: 5, message: 'must list at least one stage' },
    ]);
    expect(loadPipeline(`${HEAD}stages: [{ id: a, task: x }]`).stages[0]!.id).toBe('a');
  });

  test('compilePipelineObject problems have no line', () => {
    expect(problems(compilePipelineObject(raw([{ id: 'a' }])))).toEqual([{ path: 'stages[0].task', message: 'is required' }]);
  });
});

describe('stage count limit', () => {
  test('more than 200 stages is refused with the limit', () => {
    const stages = Array.from({ length: 201 }, (_, i) => ({ id: `s${i}`, task: 'noop' }));
    const r = compilePipelineObject({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'many', stages });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toEqual([expect.objectContaining({ path: 'stages', message: 'must list at most 200 stages' })]);
  });
});
