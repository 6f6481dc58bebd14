import { JobNotFoundError, PipelineValidationError, ServiceUnavailableError } from '../../common/errors';
import { FleetValidationError } from '../../grid/errors';
import { describeError } from '../../manager/cli/render/errors';
import { jobsTable } from '../../manager/cli/commands/jobs';
import { decodeCursor, encodeCursor } from '../../manager/client/cursor';
import { parseS3Url } from '../../manager/client/input';
import { resolvePipeline } from '../../manager/client/pipeline-source';
import { localPathOf } from '../../manager/client/results';
import { isUnreachable } from '../../manager/client/services';
import type { Job } from '../../store/jobs';

describe('client helpers', () => {
  test('cursors round-trip and garbage is refused with a sentence', () => {
    const c = { createdAt: new Date('2026-01-31T12:00:00.123Z'), jobId: 'abc-1' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(() => decodeCursor('nope')).toThrow(/not one returned by list\(\)/);
  });

  test('s3 URLs', () => {
    expect(parseS3Url('s3://b/some/prefix/')).toEqual({ bucket: 'b', key: 'some/prefix/' });
    expect(parseS3Url('s3://b')).toEqual({ bucket: 'b', key: '' });
    expect(parseS3Url('/local/path')).toBeUndefined();
  });

  test('downloaded outputs keep their layout below the job and never leave the folder', () => {
    expect(localPathOf('/d', 'j1', 'jobs/j1/stages/up/parts/3/out.txt')).toBe('/d/up/parts/3/out.txt');
    expect(localPathOf('/d', 'j1', 'jobs/j1/other/x')).toBe('/d/other/x');
    expect(localPathOf('/d', 'j1', 'elsewhere/y')).toBe('/d/elsewhere/y');
    expect(() => localPathOf('/d', 'j1', 'jobs/j1/stages/../../../../etc/passwd')).toThrow(/outside/);
  });

  test('network errors are told apart from refusals', () => {
    expect(isUnreachable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isUnreachable(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ENOTFOUND' }) }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' }))).toBe(false);
  });

  test('pipelines resolve from text, objects and compiled definitions; problems all listed', async () => {
    const text = 'apiVersion: batchgrid/v1\nkind: Pipeline\nname: p\nstages:\n  - id: a\n    task: noop\n';
    const compiled = await resolvePipeline(text);
    expect(compiled.stages[0]).toMatchObject({ id: 'a', timeoutMs: 900_000 });
    expect(await resolvePipeline(compiled)).toBe(compiled);
    expect(await resolvePipeline({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'p', stages: [{ id: 'a', task: 'noop' }] })).toEqual(compiled);
    await expect(resolvePipeline('{"apiVersion":"batchgrid/v1","kind":"Pipeline","name":"P","stages":[]}')).rejects.toThrow(PipelineValidationError);
    await expect(resolvePipeline('/no/such/pipeline.yaml')).rejects.toThrow('cannot read pipeline /no/such/pipeline.yaml: no such file');
  });
});

describe('CLI error text', () => {
  test('unknown job, problems by line, service down, missing tables', () => {
    expect(describeError(new JobNotFoundError('x1'))).toBe('job x1 not found');
    const problems = new PipelineValidationError([
      { path: 'name', message: 'must be lowercase', line: 3 },
      { path: 'stages[0].needs[0]', message: 'unknown stage "zzz"', line: 7 },
    ]);
    expect(describeError(problems, { file: 'p.yaml' })).toBe('2 problems in p.yaml:\n  p.yaml:3: name: must be lowercase\n  p.yaml:7: stages[0].needs[0]: unknown stage "zzz"');
    const down = new ServiceUnavailableError('Temporal', '127.0.0.1:7233', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
    expect(describeError(down)).toMatch(/^Temporal is not reachable at 127\.0\.0\.1:7233\. Start the local stack with `batchgrid dev up`.* \(ECONNREFUSED\)$/);
    expect(describeError(Object.assign(new Error('relation "jobs" does not exist'), { code: '42P01' }))).toMatch(/batchgrid db migrate/);
  });

  test('a fleet definition\'s problems by line; a server\'s refusal in its own words', () => {
    expect(describeError(new FleetValidationError([{ path: 'name', message: 'must be lowercase', line: 3 }]), { file: 'f.yaml' })).toBe('1 problem in f.yaml:\n  f.yaml:3: name: must be lowercase');
    const refused = new ServiceUnavailableError('Postgres', '127.0.0.1:5432', { cause: Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' }) });
    expect(describeError(refused)).toMatch(/ \(password authentication failed for user "x"\)$/);
  });

  test('jobs table', () => {
    const job = (id: string, over: Partial<Job> = {}): Job => ({
      jobId: id, pipelineName: 'p', definition: {} as Job['definition'], status: 'succeeded', bucket: 'b', inputPrefix: 'i/', workflowId: `job-${id}`, parentJobId: null, fleet: 'default', priority: 1, concurrency: 100, tolerate: null,
      createdAt: new Date('2026-01-31T12:00:00Z'), startAt: null, startedAt: new Date('2026-01-31T12:00:01Z'), finishedAt: new Date('2026-01-31T12:01:06Z'), summary: null, error: null, ...over,
    });
    expect(jobsTable([job('a1'), job('b22', { status: 'scheduled', startedAt: null, finishedAt: null, parentJobId: 'a1' })]).split('\n')).toEqual([
      'JOB  PIPELINE  STATUS     CREATED (UTC)        DURATION  PARENT',
      'a1   p         succeeded  2026-01-31 12:00:00  1m05s',
      'b22  p         scheduled  2026-01-31 12:00:00  -         a1',
    ]);
  });
});
