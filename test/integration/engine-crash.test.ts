import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { ChildProcess } from 'node:child_process';
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

  /**
   * Runs a 24-part stage on orchestrator A, applies `fault` to A mid-stage (with orchestrator B
   * started when `fault` says so), and checks the outcome exactly: every part succeeded once, on
   * its first attempt, the stage never recorded as cancelled, and the results complete.
   */
  async function orchestratorFault(name: string, fault: (a: ChildProcess, startB: () => ChildProcess, progress: () => Promise<number>) => Promise<void>) {
    const a = spawnBatchgrid(engine, ['orchestrator', '--task-queue', engine.taskQueue]);
    let b: ChildProcess | undefined;
    const lines = Array.from({ length: 24 }, (_, i) => `row ${i}`).join('\n');
    const { jobId, handle } = await engine.submit(
      { name, concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 300 } }] },
      { 'in.txt': lines },
      { options: { stageHeartbeatTimeoutMs: 3000 } },
    );
    try {
      await waitFor(async () => (await count(jobId)) >= 6, { timeoutMs: 60_000 });
      await fault(a, () => (b = spawnBatchgrid(engine, ['orchestrator', '--task-queue', engine.taskQueue])), () => count(jobId));
      const summary = await handle.result();
      expect(summary.stages[0]).toMatchObject({ partsTotal: 24, succeeded: 24, failed: 0 });
      // Each part has exactly one row, succeeded, on its first attempt: parts open at the fault were resent under the same attempt and counted once.
      expect(await count(jobId, `stage_id = 'work'`)).toBe(24);
      expect(await count(jobId, 'attempt > 1')).toBe(0);
      const stages = await engine.db.pool.query(`SELECT status FROM stage_runs WHERE job_id = $1`, [jobId]);
      expect(stages.rows.map((r) => r.status)).toEqual(['succeeded']);
      const results = await engine.readJsonLines<{ part: number }>(summary.resultsKey!);
      expect(results.map((r) => r.part).sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      // The stage activity ran a second attempt, which resumed rather than starting over.
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
      expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
      return { jobId };
    } finally {
      for (const p of [a, b]) if (p) p.kill('SIGCONT');
      for (const p of [a, b]) if (p) p.kill('SIGKILL');
      await Promise.all([a, b].filter((p): p is ChildProcess => p !== undefined).map(exited));
    }
  }

  beforeEach(async () => {
    if (fleetStarted) return;
    await engine.startFleet(2, { concurrency: 2 });
    fleetStarted = true;
  });
  let fleetStarted = false;

  test('the orchestrator killed mid-stage (SIGKILL): the stage activity resumes from its heartbeat', async () => {
    await orchestratorFault('crash-orchestrator', async (a, startB, progress) => {
      a.kill('SIGKILL');
      await exited(a);
      expect(await progress()).toBeLessThan(24);
      startB();
    });
  });

  test('the orchestrator stopped gracefully mid-stage (SIGTERM, a deploy): the job goes on, never cancelled', async () => {
    await orchestratorFault('sigterm-orchestrator', async (a, startB, progress) => {
      a.kill('SIGTERM');
      expect(await exited(a)).toBe(0);
      expect(await progress()).toBeLessThan(24);
      startB();
    });
  });

  test('the orchestrator frozen past the heartbeat timeout (SIGSTOP), then woken beside its replacement: the stale attempt writes nothing', async () => {
    await orchestratorFault('sigstop-orchestrator', async (a, startB, progress) => {
      a.kill('SIGSTOP');
      const atStop = await progress();
      startB();
      // B takes the stage over after the 3 s heartbeat timeout; wake A while B is mid-stage.
      await waitFor(async () => (await progress()) >= atStop + 4, { timeoutMs: 60_000 });
      a.kill('SIGCONT');
    });
  });

  test('a rolling stop with two orchestrators: the active one stopped gracefully, the other takes over at once', async () => {
    await orchestratorFault('rolling-orchestrators', async (a, startB) => {
      startB();
      a.kill('SIGTERM');
      expect(await exited(a)).toBe(0);
    });
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
