import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePipelineObject } from '../../pipeline';
import { admitBatchJobInput, batchJobInputJsonSchema, formatInputProblems } from '../../pipeline/job-input';

const context = { workflowId: 'job-from-wf', defaultJobId: 'from-wf', defaultBucket: 'bucket-a' };
const definition = {
  apiVersion: 'batchgrid/v1',
  kind: 'Pipeline',
  name: 'words',
  input: { split: { by: 'lines', size: 2 } },
  stages: [{ id: 'upper', task: 'lines.upper', timeout: '1m', retry: { attempts: 2, backoff: '1s' }, tolerate: { failedParts: '10%' } }, { id: 'count', task: 'lines.count', needs: 'upper', gather: true }],
};

test('the published JSON Schema is the one the code checks with (npm run schema writes it)', () => {
  const published = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'batch-job-input.schema.json'), 'utf8'));
  expect(published).toEqual(batchJobInputJsonSchema());
  expect(published.required).toEqual(['inputPrefix']);
  expect(Object.keys(published.properties)).toEqual(['jobId', 'definition', 'pipeline', 'bucket', 'inputPrefix', 'options', 'retryOf', 'priority']);
});

test('a definition as a map and as YAML text compile to the same pipeline; defaults come from the workflow id and the orchestrator', () => {
  const fromMap = admitBatchJobInput({ definition, inputPrefix: 'jobs/x/input/' }, context);
  const yaml = `apiVersion: batchgrid/v1\nkind: Pipeline\nname: words\ninput:\n  split: { by: lines, size: 2 }\nstages:\n  - { id: upper, task: lines.upper, timeout: 1m, retry: { attempts: 2, backoff: 1s }, tolerate: { failedParts: "10%" } }\n  - { id: count, task: lines.count, needs: upper, gather: true }\n`;
  const fromYaml = admitBatchJobInput({ definition: yaml, inputPrefix: 'jobs/x/input/', jobId: 'given', bucket: 'bucket-b' }, context);
  expect(fromMap).toEqual({ ok: true, input: { jobId: 'from-wf', bucket: 'bucket-a', pipeline: expect.objectContaining({ name: 'words' }) } });
  expect(fromYaml.ok && fromYaml.input).toEqual({ jobId: 'given', bucket: 'bucket-b', pipeline: fromMap.ok && fromMap.input.pipeline });
});

test('a compiled pipeline (what batchgrid submit sends) is checked for shape, rules and sizes, and comes back unchanged', () => {
  const compiled = compilePipelineObject(definition);
  if (!compiled.ok) throw new Error('fixture');
  const r = admitBatchJobInput({ pipeline: compiled.pipeline, inputPrefix: 'jobs/x/input/', options: { overdueSlackMs: 1000, queueAheadMs: 3000 }, retryOf: 'parent-1', priority: 5 }, context);
  expect(r.ok && r.input.pipeline).toEqual({ ...compiled.pipeline, priority: 5 });
  const unchanged = admitBatchJobInput({ pipeline: compiled.pipeline, inputPrefix: 'jobs/x/input/' }, context);
  expect(unchanged.ok && unchanged.input.pipeline).toBe(compiled.pipeline);
  // Keys the compiler adds later (here an unknown one) pass: the values are batchgrid's own.
  const later = { ...compiled.pipeline, stages: [{ ...compiled.pipeline.stages[0]!, speculate: { afterPercent: 90 } }, compiled.pipeline.stages[1]!] };
  expect(admitBatchJobInput({ pipeline: later, inputPrefix: 'p/' }, context).ok).toBe(true);
  const [upper, count] = compiled.pipeline.stages as unknown as [Record<string, unknown>, Record<string, unknown>];
  const broken = { ...compiled.pipeline, stages: [{ ...upper, needs: ['nope'] }, { ...count, params: { blob: 'x'.repeat(70_000) } }, { id: 'bare' }] };
  const bad = admitBatchJobInput({ pipeline: broken, inputPrefix: 'jobs/x/input/' }, context);
  expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['pipeline.stages[2].task', 'pipeline.stages[2].needs', 'pipeline.stages[2].timeoutMs', 'pipeline.stages[2].retry', 'pipeline.stages[2].tolerate']);
  const rules = admitBatchJobInput({ pipeline: { ...broken, stages: broken.stages.slice(0, 2) }, inputPrefix: 'jobs/x/input/' }, context);
  expect(rules.ok ? [] : rules.problems.map((p) => p.path)).toEqual(['pipeline.stages[0].needs[0]', 'pipeline.stages[0].split', 'pipeline.stages[1].params']);
});

test('a bad input is refused with every problem by path, in one message', () => {
  const r = admitBatchJobInput(
    { jobId: 'Bad_Id', definition: { ...definition, stages: [{ id: 'upper', task: 'lines.upper', needs: 'nope' }] }, inputPrefix: '/abs', options: { partsPerMessage: 50 }, colour: 'red' },
    context,
  );
  expect(r.ok).toBe(false);
  const problems = r.ok ? [] : r.problems;
  expect(problems.map((p) => p.path).sort()).toEqual(['colour', 'definition.stages[0].needs', 'inputPrefix', 'jobId', 'options.partsPerMessage'].sort());
  const message = formatInputProblems(problems);
  expect(message).toMatch(/^the batchJob input is not valid \(5 problems\): /);
  expect(message).toContain('unknown key "colour"');
  expect(message).toContain('inputPrefix: must be an S3 key prefix (a folder ending in "/"');
});

test('neither or both of definition and pipeline, a missing prefix, a workflow id that makes no job id', () => {
  const neither = admitBatchJobInput({}, { ...context, defaultJobId: '' });
  expect(neither.ok ? [] : neither.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
    'inputPrefix: is required',
    'definition: is required: the pipeline as written (a map, or its YAML or JSON text)',
    'jobId: is required: the workflow id "job-from-wf" gives no valid job id',
  ]);
  const compiled = compilePipelineObject(definition);
  const both = admitBatchJobInput({ definition, pipeline: compiled.ok && compiled.pipeline, inputPrefix: 'p/' }, context);
  expect(both.ok ? [] : both.problems.map((p) => p.path)).toEqual(['pipeline']);
  const text = admitBatchJobInput({ definition: 'name: [unclosed', inputPrefix: 'p/' }, context);
  expect(text.ok ? '' : text.problems[0]!.message).toMatch(/YAML syntax error/);
  expect(admitBatchJobInput('nope', context).ok).toBe(false);
});

test('every input batchgrid itself starts jobs with passes: one object, the whole bucket, short heartbeats', () => {
  const compiled = compilePipelineObject(definition);
  if (!compiled.ok) throw new Error('fixture');
  for (const inputPrefix of ['jobs/x/input/one.csv', '', 'claims/2026/']) {
    expect(admitBatchJobInput({ pipeline: compiled.pipeline, inputPrefix, options: { stageHeartbeatTimeoutMs: 3000, partsPerMessage: 1, overdueSlackMs: 500, queueAheadMs: 3_600_000 } }, context).ok).toBe(true);
  }
});
