import { randomBytes } from 'node:crypto';
import { compileFleetObject } from '../../grid/fleet-def';
import { gridStatus, listWorkerStats, startAutoscaler, stopAutoscaler, type GridDeps } from '../../grid/service';
import type { FleetDef } from '../../grid/types';
import { renderStatus } from '../../manager/cli/commands/grid';
import { renderWorkers } from '../../manager/cli/commands/workers';
import { shutdownLocalFleets } from '../../activities/grid';
import { getFleetState } from '../../store/fleet-state';
import { listDecisions, type ScalingDecision } from '../../store/scaling';
import { startEngine, type TestEngine } from '../support/engine';
import { waitForValue } from '../support/stack';

/**
 * The autoscaler with the local provider on the real stack (Temporal, SQS, S3, Postgres): the
 * workers are `batchgrid fleet-worker` processes from dist/ (run `npm run build` first), children
 * of this test process, which runs the orchestrator.
 */
jest.setTimeout(240_000);

let engine: TestEngine;
let deps: GridDeps;
const fleets: string[] = [];

beforeAll(async () => {
  engine = await startEngine();
  deps = { db: engine.db.pool, temporal: engine.temporal, taskQueue: engine.taskQueue };
});

afterAll(async () => {
  for (const fleet of fleets) await stopAutoscaler(deps, fleet, { wait: true }).catch(() => undefined);
  await shutdownLocalFleets();
  await engine?.close();
});

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 90_000) => waitForValue(what, probe, timeoutMs, 200);

function localFleet(name: string, extra: Record<string, unknown> = {}): FleetDef {
  const r = compileFleetObject({
    apiVersion: 'batchgrid/v1', kind: 'Fleet', name, provider: { type: 'local', concurrency: 2 },
    min: 0, max: 3, targetBacklogPerWorker: 2, period: '1s', scaleInCooldown: '2s', idleTimeout: '3s', shutdownGrace: '10s', ...extra,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  fleets.push(name);
  return r.fleet;
}

const newFleetName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const chronological = async (fleet: string) => (await listDecisions(engine.db.pool, fleet, 1000)).reverse();
const changes = (ds: ScalingDecision[]) => ds.filter((d) => d.desired !== d.previous);
const kind = (d: ScalingDecision) => d.reason.split(':')[0];

const linesJob = (fleet: string, parts: number, sleepMs: number, concurrency: number) =>
  engine.submit(
    { name: 'grid-burst', fleet, concurrency, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs } }] },
    { 'in.txt': Array.from({ length: parts }, (_, i) => `line ${i}`).join('\n') },
    { options: { partsPerMessage: 1 } },
  );

async function taskRuns(jobId: string) {
  return (await engine.db.pool.query(`SELECT part, status, attempt, worker_id, finished_at FROM task_runs WHERE job_id = $1 ORDER BY part`, [jobId])).rows as { part: number; status: string; attempt: number; worker_id: string; finished_at: Date }[];
}

/** Every worker of the fleet reported its stop (the autoscaler drained the events), so counters are final. */
const allStopped = (fleet: string) => waitFor(`${fleet}'s workers to report stopped`, async () => {
  const ws = await listWorkerStats(engine.db.pool, { fleet, all: true });
  return ws.length > 0 && ws.every((w) => w.status === 'stopped') ? ws : undefined;
});

test('a burst scales a local fleet from zero up to max, the job finishes, the fleet returns to zero; the decisions tell the story', async () => {
  const fleet = newFleetName('burst');
  await startAutoscaler(deps, localFleet(fleet));
  const parts = 24;
  const { jobId, handle } = await linesJob(fleet, parts, 1000, 12);

  // While the job runs, the CLI's functions show the fleet and its live workers.
  await waitFor('live workers', async () => (await listWorkerStats(engine.db.pool, { fleet })).length > 0);
  expect(renderWorkers(await listWorkerStats(engine.db.pool, { fleet }))).toContain(fleet);

  const summary = await handle.result();
  expect(summary.status).toBe('succeeded');

  const ds = await waitFor('the fleet to go idle to zero', async () => {
    const all = await chronological(fleet);
    const last = changes(all).at(-1);
    return last && last.desired === 0 ? all : undefined;
  });
  const story = changes(ds);
  if (process.env.TEST_LOG_DECISIONS) console.log(ds.map((d) => `${d.at.toISOString()} ${d.previous}->${d.desired} ${d.visible}+${d.inFlight} workers=${d.workers} ${d.reason}`).join('\n'));
  // 0 → ≥1 as soon as parts are queued; up to max (never beyond); back to 0 only after the idle timeout.
  expect(story[0]).toMatchObject({ previous: 0 });
  expect(kind(story[0]!)).toBe('queued from zero');
  expect(story[0]!.desired).toBeGreaterThanOrEqual(1);
  expect(Math.max(...story.map((d) => d.desired))).toBe(3);
  for (let i = 1; i < story.length; i++) expect(story[i]!.previous).toBe(story[i - 1]!.desired);
  expect(story.every((d) => ['queued from zero', 'scale out', 'scale in', 'idle'].includes(kind(d)))).toBe(true);
  const last = story.at(-1)!;
  expect(kind(last)).toBe('idle');
  expect(last).toMatchObject({ desired: 0, visible: 0, inFlight: 0 });
  // Only changes (and rare steady snapshots) are recorded, not every tick.
  expect(ds.length).toBeLessThan(story.length + 5);

  // Every part ran once and succeeded.
  const runs = await taskRuns(jobId);
  expect(runs).toHaveLength(parts);
  // Zero came only after the queue had been empty for idleTimeout (3s) past the last part.
  const lastPartAt = Math.max(...runs.map((r) => r.finished_at.getTime()));
  expect(last.at.getTime()).toBeGreaterThanOrEqual(lastPartAt + 3000 - 250);
  expect(runs.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);

  // Worker statistics came over SQS only; once every worker has stopped, their counters add up to the completions.
  const workers = await allStopped(fleet);
  expect(workers.reduce((n, w) => n + w.partsDone, 0)).toBe(runs.length);
  expect(workers.reduce((n, w) => n + w.partsFailed, 0)).toBe(0);
  expect(new Set(runs.map((r) => r.worker_id))).toEqual(new Set(workers.filter((w) => w.partsDone > 0).map((w) => w.workerId)));
  expect(workers.length).toBeGreaterThanOrEqual(3);

  // grid status reads the autoscaler's last observation: wait for a tick after the last worker exited.
  const status = await waitFor('grid status to show no worker', async () => {
    const [s] = await gridStatus(deps, { fleet });
    return s?.actual === 0 ? s : undefined;
  });
  expect(status).toMatchObject({ fleet, provider: 'local', autoscaler: 'running', desired: 0, actual: 0, min: 0, max: 3, workersUp: 0 });
  expect(status!.decisions[0]!.reason).toMatch(/^idle:/);
  expect(renderStatus([status!])).toContain(`${fleet}: latest decisions`);
});

test('a scale-in during a running job loses nothing: every part accounted once, output exact', async () => {
  const fleet = newFleetName('shrink');
  // One slot per worker and a grace shorter than a part: a removed worker hands its part back.
  const def = localFleet(fleet, { provider: { type: 'local', concurrency: 1 }, targetBacklogPerWorker: 1, shutdownGrace: '500ms', idleTimeout: '2s' });
  await startAutoscaler(deps, def);
  const parts = 12;
  const { jobId, handle } = await linesJob(fleet, parts, 2000, 6);

  // Three workers are running parts when the operator lowers max to 1: two are stopped mid-job.
  await waitFor('three workers and some parts done', async () => {
    const s = await getFleetState(engine.db.pool, fleet);
    const done = (await taskRuns(jobId)).filter((r) => r.status === 'succeeded').length;
    return s?.actual === 3 && done >= 3;
  });
  await startAutoscaler(deps, { ...def, max: 1 });
  const shrink = await waitFor('the scale-in', async () => (await chronological(fleet)).find((d) => kind(d) === 'above max'));
  expect(shrink).toMatchObject({ previous: 3, desired: 1 });
  await waitFor('two workers to stop', async () => (await listWorkerStats(engine.db.pool, { fleet, all: true })).filter((w) => w.status === 'stopped').length >= 2);
  // Back to three to finish sooner.
  await startAutoscaler(deps, def);

  const summary = await handle.result();
  expect(summary.status).toBe('succeeded');
  expect(summary.stages[0]).toMatchObject({ partsTotal: parts, succeeded: parts, failed: 0 });
  const runs = await taskRuns(jobId);
  expect(runs.map((r) => r.part)).toEqual(Array.from({ length: parts }, (_, i) => i));
  expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
  // A handed-back message comes again with the same attempt: nothing was retried, nothing lost.
  expect(runs.every((r) => r.attempt === 1)).toBe(true);
  const results = await engine.readJsonLines<{ stage: string; part: number; result: { part: number; attempt: number } }>(summary.resultsKey!);
  expect(results.map((r) => r.part).sort((a, b) => a - b)).toEqual(Array.from({ length: parts }, (_, i) => i));
  expect(results.every((r) => r.stage === 'work' && r.result.part === r.part && r.result.attempt === 1)).toBe(true);

  await stopAutoscaler(deps, fleet, { wait: true });
  const workers = await allStopped(fleet);
  // Parts aborted by a stopping worker do not count as done: the counters match the completions exactly.
  expect(workers.reduce((n, w) => n + w.partsDone, 0)).toBe(parts);
  const decisions = await chronological(fleet);
  expect(decisions.at(-1)!.reason).toMatch(/^stopped:/);
});

test('the whole backlog: a 2,000-part job with concurrency 100 grows its fleet to max from the parts behind its window, then back to zero', async () => {
  const fleet = newFleetName('backlog');
  // The window alone (100 parts) asks for 100 / 50 = 2 workers; the whole backlog asks for 40, so max.
  await startAutoscaler(deps, localFleet(fleet, { max: 4, targetBacklogPerWorker: 50 }));
  const { jobId, handle } = await linesJob(fleet, 2000, 20, 100);
  const summary = await handle.result();
  expect(summary.stages[0]).toMatchObject({ partsTotal: 2000, succeeded: 2000, failed: 0 });
  const ds = await waitFor('the fleet to go idle to zero', async () => {
    const all = await chronological(fleet);
    const last = changes(all).at(-1);
    return last && last.desired === 0 ? all : undefined;
  });
  const story = changes(ds);
  const toMax = story.find((d) => d.desired === 4);
  process.stdout.write(`whole backlog: ${story.map((d) => `${d.previous}->${d.desired} (${d.reason})`).join('; ')}\n`);
  expect(toMax).toBeDefined();
  expect(toMax!.reason).toMatch(/\d+ parts behind job windows/);
  expect(kind(story.at(-1)!)).toBe('idle');
  expect((await taskRuns(jobId)).length).toBe(2000);
});

test('expected work: once run times are known, a fleet of long parts grows to what their work needs, not what their count asks', async () => {
  const fleet = newFleetName('work');
  // 100 parts ask for 100 / 50 = 2 workers by count; at 500 ms each they are 50 s of work, which at 5 s per worker asks for 10 (max 4).
  await startAutoscaler(deps, localFleet(fleet, { max: 4, targetBacklogPerWorker: 50, targetWorkPerWorker: '5s' }));
  const { jobId, handle } = await linesJob(fleet, 100, 500, 20);
  const summary = await handle.result();
  expect(summary.stages[0]).toMatchObject({ partsTotal: 100, succeeded: 100, failed: 0 });
  const story = changes(await chronological(fleet));
  process.stdout.write(`expected work: ${story.map((d) => `${d.previous}->${d.desired} (${d.reason})`).join('; ')}\n`);
  const byWork = story.find((d) => d.desired === 4);
  expect(byWork).toBeDefined();
  expect(byWork!.reason).toMatch(/expected work \d+ s in \d+ parts of known run time, target 5 s per worker/);
  // Before any part finished, the count alone decided (fewer than max).
  expect(story[0]!.desired).toBeLessThan(4);
  expect((await taskRuns(jobId)).every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
  await stopAutoscaler(deps, fleet, { wait: true });
}, 120_000);
