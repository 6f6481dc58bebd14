import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ensureFleetQueues } from '../../worker/fleet';
import { startEngine, type TestEngine } from '../support/engine';
import { waitFor } from '../support/stack';
import { exited, spawnBatchgrid } from '../support/processes';

/** Processes die: the orchestrator mid-stage, a fleet worker mid-part. Nothing is lost or counted twice. */
describe('engine with crashing processes', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine({ orchestrator: false });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  const count = async (jobId: string, where = "status = 'succeeded'") =>
    Number((await engine.db.pool.query(`SELECT count(*) FROM task_runs WHERE job_id = $1 AND ${where}`, [jobId])).rows[0].count);

  test('the orchestrator killed mid-stage: the stage activity resumes from its heartbeat', async () => {
    await engine.startFleet(2, { concurrency: 2 });
    const first = spawnBatchgrid(engine, ['orchestrator', '--task-queue', engine.taskQueue]);
    const lines = Array.from({ length: 24 }, (_, i) => `row ${i}`).join('\n');
    const { jobId, handle } = await engine.submit(
      { name: 'crash-orchestrator', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 300 } }] },
      { 'in.txt': lines },
      { options: { stageHeartbeatTimeoutMs: 3000 } },
    );
    await waitFor(async () => (await count(jobId)) >= 6, { timeoutMs: 60_000 });
    first.kill('SIGKILL');
    await exited(first);
    const doneAtCrash = await count(jobId);
    expect(doneAtCrash).toBeLessThan(24);
    const second = spawnBatchgrid(engine, ['orchestrator', '--task-queue', engine.taskQueue]);
    try {
      const summary = await handle.result();
      expect(summary.stages[0]).toMatchObject({ partsTotal: 24, succeeded: 24, failed: 0 });
      // Each part has exactly one row, succeeded, on its first attempt: parts open at the crash were resent under the same attempt and counted once.
      expect(await count(jobId, `stage_id = 'work'`)).toBe(24);
      expect(await count(jobId, 'attempt > 1')).toBe(0);
      const results = await engine.readJsonLines<{ part: number }>(summary.resultsKey!);
      expect(results.map((r) => r.part).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      // The stage activity ran a second attempt, which resumed rather than starting over.
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
      expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    } finally {
      second.kill('SIGTERM');
      await exited(second);
    }
  });

  test('a fleet worker killed with SIGKILL mid-part: its parts reappear and run elsewhere, counted once', async () => {
    const orchestrator = spawnBatchgrid(engine, ['orchestrator', '--task-queue', engine.taskQueue]);
    const doomed = spawnBatchgrid(engine, ['fleet-worker', '--fleet', 'kill', '--concurrency', '4', '--visibility-timeout', '3']);
    try {
      const lines = Array.from({ length: 8 }, (_, i) => `row ${i}`).join('\n');
      const { jobId, handle } = await engine.submit(
        { name: 'crash-worker', fleet: 'kill', concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 1500 } }] },
        { 'in.txt': lines },
      );
      // The doomed worker holds parts (messages in flight on the fleet queue) and none has completed.
      const queues = await ensureFleetQueues(engine.aws.sqs, engine.queuePrefix, 'kill');
      await waitFor(async () => {
        const a = await engine.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.inputQueueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
        return Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) >= 4;
      }, { timeoutMs: 30_000 });
      doomed.kill('SIGKILL');
      await exited(doomed);
      expect(await count(jobId)).toBe(0);
      await engine.startFleet(1, { fleet: 'kill', concurrency: 4 });
      const summary = await handle.result();
      expect(summary.stages[0]).toMatchObject({ partsTotal: 8, succeeded: 8, failed: 0, retried: 0 });
      expect(await count(jobId, `stage_id = 'work'`)).toBe(8);
      const results = await engine.readJsonLines<{ part: number }>(summary.resultsKey!);
      expect(results.map((r) => r.part)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      doomed.kill('SIGKILL');
      orchestrator.kill('SIGTERM');
      await Promise.all([exited(doomed), exited(orchestrator)]);
    }
  });
});
