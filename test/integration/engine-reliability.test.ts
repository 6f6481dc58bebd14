import { GetQueueUrlCommand, DeleteQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { createActivities } from '../../activities';
import { completionQueueName, fleetQueueName } from '../../common/aws';
import { manifestKeyOf } from '../../common/layout';
import { ensureFleetQueues } from '../../common/sqs/queues';
import { BatchGridClient } from '../../manager';
import { launchJob } from '../../manager/launch';
import { defineTask } from '../../worker/task';
import { runActivity } from '../support/activity-context';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';
import { waitForValue as waitFor } from '../support/stack';

/** Writes `params.outputs` outputs with long names: a barrier joining two of them has a long input list. */
const manyOutputs = defineTask({
  name: 'many.outputs',
  async run(part, ctx) {
    const n = (ctx.params as { outputs: number }).outputs;
    for (let i = 0; i < n; i += 1) await ctx.writeOutput(`${String(i).padStart(4, '0')}-${'x'.repeat(140)}.txt`, `${part.stageId} ${i}\n`);
    return { outputs: n };
  },
});
/** Counts the inputs it was given. */
const countInputs = defineTask({ name: 'count.inputs', async run(_part, ctx) { return { inputs: ctx.inputs.length }; } });

/**
 * Regressions of the reliability findings on the real stack: a stage's outcome outlives a lost
 * result, a missing queue is repaired (never read as a cancel), a cancel while planning closes
 * the stage, oversized messages fail fast and long input lists travel by claim check, and a job
 * whose workflow ended outside batchgrid does not stay `running`.
 */
describe('engine reliability', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  const silent = pino({ level: 'silent' });

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4, tasks: [manyOutputs, countInputs], visibilityTimeoutSeconds: 5 });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await engine?.close();
  });

  const count = async (jobId: string, where = "status = 'succeeded'") =>
    Number((await engine.db.pool.query(`SELECT count(*) FROM task_runs WHERE job_id = $1 AND ${where}`, [jobId])).rows[0].count);
  const stageStatus = async (jobId: string) => (await engine.db.pool.query(`SELECT stage_id, status FROM stage_runs WHERE job_id = $1 ORDER BY stage_id`, [jobId])).rows;
  const queuesOf = async (jobId: string) => (await engine.aws.sqs.send(new ListQueuesCommand({ QueueNamePrefix: completionQueueName(engine.queuePrefix, jobId, '') }))).QueueUrls ?? [];
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `row ${i}`).join('\n');

  test('a stage activity retried after its stage finished (the result lost on its way to Temporal) returns the stored outcome', async () => {
    const def = pipeline({ name: 'lost-result', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'noop' }] });
    const { jobId, handle } = await engine.submit(def, { 'in.txt': lines(3) });
    const summary = await handle.result();
    // The workflow closed the stage: its completion queue is gone, as after any finished stage.
    expect(await queuesOf(jobId)).toEqual([]);
    const fleet = await ensureFleetQueues(engine.aws.sqs, engine.queuePrefix, 'default');
    const { runStage } = createActivities({ db: engine.db.pool, aws: engine.aws, queuePrefix: engine.queuePrefix, log: silent });
    const again = runActivity(
      () => runStage({ jobId, stage: def.stages[0], bucket: engine.bucket, concurrency: 4, source: { kind: 'manifest', manifestKey: manifestKeyOf(jobId, 'work'), partsTotal: 3 }, fleet: 'default', inputQueueUrl: fleet.inputQueueUrl, dlqUrl: fleet.dlqUrl }),
      { attempt: 2 },
    );
    await expect(again.result).resolves.toEqual(summary.stages[0]);
    expect(await count(jobId)).toBe(3);
  });

  test('an attempt stopped by its worker (SIGTERM) writes nothing; only a cancel the workflow requested ends the stage cancelled', async () => {
    // A job with no orchestrator attention: its stage run is driven here by hand.
    const def = pipeline({ name: 'stop-not-cancel', concurrency: 2, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 400 } }] });
    const { jobId, handle } = await engine.submit(def, { 'in.txt': lines(12) });
    await waitFor('two parts done', async () => (await count(jobId)) >= 2);
    // The real attempt keeps running; a second, simulated attempt claims the stage and is stopped by a shutdown.
    const fleet = await ensureFleetQueues(engine.aws.sqs, engine.queuePrefix, 'default');
    const { runStage } = createActivities({ db: engine.db.pool, aws: engine.aws, queuePrefix: engine.queuePrefix, log: silent });
    const input = { jobId, stage: def.stages[0], bucket: engine.bucket, concurrency: 2, source: { kind: 'manifest' as const, manifestKey: manifestKeyOf(jobId, 'work'), partsTotal: 12 }, fleet: 'default', inputQueueUrl: fleet.inputQueueUrl, dlqUrl: fleet.dlqUrl };
    const stopped = runActivity(() => runStage(input), { attempt: 50 });
    await waitFor('the simulated attempt to own the stage', async () => (await engine.db.pool.query(`SELECT runner_attempt FROM stage_runs WHERE job_id = $1`, [jobId])).rows[0].runner_attempt === 50);
    stopped.cancel({ workerShutdown: true });
    await expect(stopped.result).rejects.toMatchObject({ type: 'StageInterrupted' });
    expect(await stageStatus(jobId)).toEqual([{ stage_id: 'work', status: 'running' }]);
    expect(await queuesOf(jobId)).toHaveLength(1);
    // A cancel the workflow asked for is a cancel.
    const cancelled = runActivity(() => runStage(input), { attempt: 51 });
    await waitFor('the second simulated attempt to own the stage', async () => (await engine.db.pool.query(`SELECT runner_attempt FROM stage_runs WHERE job_id = $1`, [jobId])).rows[0].runner_attempt === 51);
    cancelled.cancel({ cancelRequested: true });
    await expect(cancelled.result).rejects.toThrow(/cancel/i);
    expect(await stageStatus(jobId)).toEqual([{ stage_id: 'work', status: 'cancelled' }]);
    await handle.terminate('test over');
  });

  test('SQS losing the stage\'s completion queue and the fleet input queue mid-stage: both are re-created, every part counted once', async () => {
    const def = pipeline({ name: 'lost-queues', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 300 }, timeout: '5s' }] });
    const { jobId, handle } = await engine.submit(def, { 'in.txt': lines(16) }, { options: { overdueSlackMs: 2000 } });
    await waitFor('three parts done', async () => (await count(jobId)) >= 3);
    const done = (await engine.aws.sqs.send(new GetQueueUrlCommand({ QueueName: completionQueueName(engine.queuePrefix, jobId, 'work') }))).QueueUrl!;
    const input = (await engine.aws.sqs.send(new GetQueueUrlCommand({ QueueName: fleetQueueName(engine.queuePrefix, 'default') }))).QueueUrl!;
    await Promise.all([done, input].map((QueueUrl) => engine.aws.sqs.send(new DeleteQueueCommand({ QueueUrl }))));
    const summary = await handle.result();
    expect(summary.stages[0]).toMatchObject({ partsTotal: 16, succeeded: 16, failed: 0 });
    expect(await count(jobId, 'true')).toBe(16);
    const results = await engine.readJsonLines<{ part: number }>(summary.resultsKey!);
    expect(results.map((r) => r.part).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  test('a cancel while a stage is planning ends the stage cancelled and leaves no queue behind', async () => {
    // A manifest of 60,000 parts takes a while to plan.
    const jobId = randomId('plan');
    const manifest = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ key: `x/${i}` })).join('\n');
    const def = pipeline({ name: 'cancel-planning', concurrency: 10, input: { split: { by: 'manifest' } }, stages: [{ id: 'work', task: 'noop' }] });
    const { handle } = await engine.submit(def, { 'manifest.jsonl': manifest }, { jobId });
    await waitFor('the stage to be planning', async () => (await stageStatus(jobId))[0]?.status === 'planning');
    await handle.cancel();
    const summary = await client.wait(jobId);
    expect(summary.status).toBe('cancelled');
    await waitFor('the stage run to end cancelled', async () => (await stageStatus(jobId))[0]?.status === 'cancelled', 30_000);
    expect(await queuesOf(jobId)).toEqual([]);
  });

  test('params too large for a task message: a workflow start refuses them at once; a stage that gets them anyway fails its parts at once, not retried for ever', async () => {
    const def = pipeline({ name: 'huge-params', concurrency: 2, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'noop', retry: { attempts: 3 } }] });
    def.stages[0].params = { blob: 'p'.repeat(300 * 1024) };
    const jobId = randomId('huge');
    const inputPrefix = `jobs/${jobId}/input/`;
    await engine.aws.s3.send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: engine.bucket, Key: `${inputPrefix}in.txt`, Body: lines(2) }));
    // The workflow's first activity checks the definition, as `validate` and `submit` do.
    const { handle } = await launchJob({ db: engine.db.pool, temporal: engine.temporal, taskQueue: engine.taskQueue, bucket: engine.bucket }, { jobId, pipeline: def, inputPrefix });
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'InvalidJobInput', message: expect.stringMatching(/pipeline\.stages\[0\]\.params: .*over the limit of 65,536 bytes/) } });
    expect(await count(jobId, 'true')).toBe(0);
    // The job launchJob recorded ends failed with the same problems.
    expect((await engine.db.pool.query(`SELECT status, error FROM jobs WHERE job_id = $1`, [jobId])).rows).toEqual([{ status: 'failed', error: expect.stringMatching(/^the batchJob input is not valid \(1 problem\): pipeline\.stages\[0\]\.params: /) }]);

    // The engine's own guard, for a stage run that gets such params anyway: each part fails at once.
    const { planStage, runStage } = createActivities({ db: engine.db.pool, aws: engine.aws, queuePrefix: engine.queuePrefix, log: silent });
    const plan = await runActivity(() => planStage({ jobId, stage: def.stages[0], fleet: 'default', inputSplit: def.input.split, bucket: engine.bucket, inputPrefix })).result;
    const result = await runActivity(() => runStage({ jobId, stage: def.stages[0], bucket: engine.bucket, concurrency: 2, source: plan.source, fleet: 'default', inputQueueUrl: plan.inputQueueUrl, dlqUrl: plan.dlqUrl })).result;
    expect(result).toMatchObject({ status: 'failed', partsTotal: 2, failed: 2 });
    const rows = (await engine.db.pool.query(`SELECT status, attempt, error FROM task_runs WHERE job_id = $1 ORDER BY part`, [jobId])).rows;
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'failed', attempt: 1 });
      expect(r.error).toMatchObject({ type: 'MessageTooLarge', retryable: false });
      expect(r.error.message).toMatch(/over the limit of 204800 bytes \(stages\.work\.params is 3072\d\d bytes\)/);
    }
  });

  test('a barrier joining two upstreams of 450 outputs each gets all 900 inputs (claim-checked, not an oversized message)', async () => {
    const def = pipeline({
      name: 'wide-join', concurrency: 4, input: { split: { by: 'lines', size: 1 } },
      stages: [
        { id: 'a', task: 'many.outputs', params: { outputs: 450 } },
        { id: 'b', task: 'many.outputs', params: { outputs: 450 } },
        { id: 'join', task: 'count.inputs', needs: ['a', 'b'] },
      ],
    });
    const { handle } = await engine.submit(def, { 'in.txt': 'one line' });
    const summary = await handle.result();
    const results = await engine.readJsonLines<{ stage: string; result: { inputs: number } }>(summary.resultsKey!);
    expect(results).toEqual([expect.objectContaining({ stage: 'join', result: { inputs: 900 } })]);
  });

  test('a job whose workflow was terminated outside batchgrid is no longer shown running', async () => {
    const def = pipeline({ name: 'terminated', concurrency: 1, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 500 } }] });
    const { jobId, handle } = await engine.submit(def, { 'in.txt': lines(20) });
    await waitFor('the job to run', async () => (await count(jobId)) >= 1);
    await handle.terminate('an operator ended it in the Temporal UI');
    const job = await client.get(jobId);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/TERMINATED/);
    expect(job.finishedAt).toBeInstanceOf(Date);
    expect(job.stages.map((s) => s.status)).toEqual(['failed']);
    const listed = await client.list({ pipeline: 'terminated' });
    expect(listed.jobs.find((j) => j.jobId === jobId)?.status).toBe('failed');
  });
});
