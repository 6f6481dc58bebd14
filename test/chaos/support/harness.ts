/**
 * Runs one fault row: a fresh engine (schema, queue prefix, task queue), orchestrators and fleet
 * workers as real OS processes, the checkable job, the fault injected mid-stage, then a watch of
 * the job until it ends or the bound after recovery passes, and an exact audit of its output.
 */
import { DeleteQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { temporal } from '@temporalio/proto';
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { config } from '../../../common/config';
import { distPath } from '../../../common/paths';
import { isTerminal, type JobStatus } from '../../../common/status';
import { startEngine, type TestEngine } from '../../support/engine';
import { exited, spawnBatchgrid } from '../../support/processes';

/** The exec templates the suite's fleet runs (see exec-policy.yaml). */
const EXEC_POLICY = path.join(__dirname, 'exec-policy.yaml');
import { waitForValue } from '../../support/stack';
import { auditJob, FLEET, INPUT, PARTS, PIPELINE, succeededParts, total, UPPER, type Audit } from './job';
import type { FaultRow } from './report';
import { startDevService, type DevServiceName } from './services';

/** Stage heartbeat timeout of every row's job, in ms: a dead or frozen orchestrator's stage is retried after this. */
export const STAGE_HEARTBEAT_TIMEOUT_MS = 5_000;
/** The job must have ended this long after the fault is over (service back, or signal sent), in ms. */
export const BOUND_AFTER_RECOVERY_MS = 60_000;
/** Fleet workers' message visibility timeout, in s: a killed worker's parts reappear after this. */
const VISIBILITY_TIMEOUT_S = 5;
/** Upper parts succeeded before the fault is injected (of PARTS). */
const MID_STAGE_PARTS = 4;

const ACTIVITY_QUEUE = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

/** What an injection works with. */
export interface Rig {
  engine: TestEngine;
  jobId: string;
  /** Orchestrator processes in start order; [0] runs the job's stages when the fault starts. */
  orchestrators: ChildProcess[];
  fleet: ChildProcess[];
  /** Starts an orchestrator and resolves once it polls the task queue for activities. */
  startOrchestrator(): Promise<ChildProcess>;
  startFleetWorker(): ChildProcess;
  /** Highest attempt of every runStage activity still pending (1 when none is). */
  runStageAttempts(): Promise<number[]>;
  /** Things seen during the injection that the outcome should mention. */
  notes: string[];
}

export interface FaultSpec {
  fault: string;
  /** Services this row stops; they are started again afterwards whatever happened. */
  services?: DevServiceName[];
  /** Injects the fault; resolves with the moment it is over (service back, or the signal sent), as Date.now(). */
  inject(rig: Rig): Promise<number>;
}

const identityOf = (child: ChildProcess) => `${child.pid}@${os.hostname()}`;

/** True if the process exits within ms. */
export async function exitsWithin(child: ChildProcess, ms: number): Promise<boolean> {
  const timer = delay(ms).then(() => false);
  return Promise.race([exited(child).then(() => true), timer]);
}

/** Ends a process we started: SIGCONT (it may be stopped), SIGKILL, and waits for its exit. */
async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited(child);
}

const run = promisify(execFile);
/** Builds the workflow bundle once, so each orchestrator starts in seconds instead of bundling. */
export async function writeWorkflowBundle(): Promise<string> {
  const file = path.join(config().BATCHGRID_HOME, 'chaos', 'workflow-bundle.js');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await run(process.execPath, [distPath('manager/cli/main.js'), 'orchestrator', '--write-bundle', file], { timeout: 180_000 });
  return file;
}

/** Runs the row end to end and returns it with the audit behind it; never throws for what the job did. */
export async function runFault(spec: FaultSpec, bundle: string): Promise<{ row: FaultRow; audit: Audit; endedWithinBound: boolean }> {
  const started = Date.now();
  const engine = await startEngine({ orchestrator: false });
  const notes: string[] = [];
  const orchestrators: ChildProcess[] = [];
  const fleet: ChildProcess[] = [];
  let jobId = '';
  const rig: Rig = {
    engine,
    get jobId() {
      return jobId;
    },
    orchestrators,
    fleet,
    notes,
    async startOrchestrator() {
      const child = spawnBatchgrid(engine, ['orchestrator', '--bundle', bundle]);
      orchestrators.push(child);
      await waitForValue('the orchestrator to poll for activities', async () => {
        if (child.exitCode !== null) throw new Error(`orchestrator exited with ${child.exitCode} before polling`);
        const r = await engine.temporal.workflowService
          .describeTaskQueue({ namespace: config().TEMPORAL_NAMESPACE, taskQueue: { name: engine.taskQueue }, taskQueueType: ACTIVITY_QUEUE })
          .catch(() => undefined);
        return (r?.pollers ?? []).some((p) => p.identity === identityOf(child));
      }, 60_000, 200);
      return child;
    },
    startFleetWorker() {
      const child = spawnBatchgrid(engine, ['fleet-worker', '--fleet', FLEET, '--concurrency', '2', '--visibility-timeout', String(VISIBILITY_TIMEOUT_S), '--grace-ms', '10000'], { BATCHGRID_EXEC_POLICY: EXEC_POLICY });
      fleet.push(child);
      return child;
    },
    async runStageAttempts() {
      const d = await engine.temporal.workflow.getHandle(`job-${jobId}`).describe();
      return (d.raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'runStage').map((a) => a.attempt ?? 1);
    },
  };

  let audit: Audit | undefined;
  let ended: JobStatus | undefined;
  let progressSeconds: number | null = null;
  try {
    rig.startFleetWorker();
    rig.startFleetWorker();
    await rig.startOrchestrator();
    ({ jobId } = await engine.submit(PIPELINE, { 'in.txt': INPUT }, { options: { stageHeartbeatTimeoutMs: STAGE_HEARTBEAT_TIMEOUT_MS } }));
    const before = await waitForValue('the upper stage to be under way', async () => {
      const d = await succeededParts(engine, jobId);
      return d[UPPER] >= MID_STAGE_PARTS && d;
    }, 120_000, 100);
    const t0 = await spec.inject(rig);
    const atFault = await succeededParts(engine, jobId).catch(() => undefined);
    // The fleet and the stage activities keep working through a Temporal outage: the whole job may be done by its end.
    if ((atFault?.[UPPER] ?? before[UPPER]) >= PARTS) process.stdout.write(`chaos: ${spec.fault}: the upper stage had finished when the fault was over\n`);
    ({ ended, progressSeconds } = await watch(engine, jobId, t0, notes));
  } catch (err) {
    notes.push(`harness: ${(err as Error).message}`);
  } finally {
    await restore(engine, jobId, spec.services ?? [], [...orchestrators, ...fleet], notes);
  }
  try {
    audit = jobId ? await auditJob(engine, jobId) : undefined;
  } catch (err) {
    notes.push(`audit: ${(err as Error).message}`);
  }
  await engine.close().catch((err: Error) => notes.push(`close: ${err.message}`));
  const a: Audit = audit ?? { status: 'missing', lost: PARTS, countedTwice: 0, wrong: ['no audit'], done: {} };
  const row: FaultRow = {
    fault: spec.fault,
    parts: PARTS,
    lost: a.lost,
    countedTwice: a.countedTwice,
    progressSeconds,
    outcome: outcomeOf(a, ended, notes),
    seconds: (Date.now() - started) / 1000,
  };
  return { row, audit: a, endedWithinBound: ended !== undefined };
}

/**
 * Polls the job from t0 until it ends or the bound passes: the first increase of succeeded
 * parts after t0 (seconds to next progress) and the final status if it ended in time.
 */
async function watch(engine: TestEngine, jobId: string, t0: number, notes: string[]): Promise<{ ended?: JobStatus; progressSeconds: number | null }> {
  const deadline = t0 + BOUND_AFTER_RECOVERY_MS;
  let baseline: number | undefined;
  let progressSeconds: number | null = null;
  let lastWorkflowCheck = 0;
  while (Date.now() < deadline) {
    const now = Date.now();
    const done = await succeededParts(engine, jobId).catch(() => undefined);
    if (done) {
      if (baseline === undefined) baseline = total(done);
      else if (progressSeconds === null && total(done) > baseline) progressSeconds = (now - t0) / 1000;
    }
    const status = await engine.db.pool.query<{ status: JobStatus }>('SELECT status FROM jobs WHERE job_id = $1', [jobId]).then((r) => r.rows[0]?.status, () => undefined);
    // Nothing was left to progress (every part finished during the fault): the job's end is its next progress.
    if (status && isTerminal(status)) return { ended: status, progressSeconds: progressSeconds ?? (now - t0) / 1000 };
    if (now - lastWorkflowCheck > 2_000) {
      lastWorkflowCheck = now;
      const d = await engine.temporal.workflow.getHandle(`job-${jobId}`).describe().catch(() => undefined);
      if (d && d.raw.workflowExecutionInfo?.status !== RUNNING) {
        notes.push(`workflow ${d.status.name} but the job is ${status ?? 'unknown'} in Postgres`);
        return { progressSeconds };
      }
    }
    await delay(250);
  }
  notes.push(await stuckDiagnosis(engine, jobId));
  return { progressSeconds };
}

/** What a stuck job is waiting on: its pending activities as Temporal sees them, and its stage runs as Postgres does. */
async function stuckDiagnosis(engine: TestEngine, jobId: string): Promise<string> {
  const seen: string[] = [];
  try {
    const d = await engine.temporal.workflow.getHandle(`job-${jobId}`).describe();
    const ago = (t?: { seconds?: unknown } | null) => (t?.seconds ? `${Math.round(Date.now() / 1000 - Number(t.seconds))} s ago` : 'never');
    for (const a of d.raw.pendingActivities ?? []) {
      const state = temporal.api.enums.v1.PendingActivityState[a.state ?? 0];
      seen.push(
        `pending ${a.activityType?.name} #${a.activityId} attempt ${a.attempt} ${state} on ${a.lastWorkerIdentity || 'no worker'}, started ${ago(a.lastStartedTime)}, heartbeat ${ago(a.lastHeartbeatTime)}, last failure ${a.lastFailure?.message ?? 'none'}`,
      );
    }
    if (seen.length === 0) seen.push('no pending activity');
  } catch (err) {
    seen.push(`describe: ${(err as Error).message}`);
  }
  const stages = await engine.db.pool
    .query<{ stage_id: string; status: string; runner_attempt: number | null; in_flight: number }>('SELECT stage_id, status, runner_attempt, in_flight FROM stage_runs WHERE job_id = $1 ORDER BY stage_id', [jobId])
    .then((r) => r.rows.map((s) => `stage ${s.stage_id} ${s.status} (runner attempt ${s.runner_attempt}, in flight ${s.in_flight})`), (err: Error) => [`stage runs: ${err.message}`]);
  const parts = await engine.db.pool
    .query<{ stage_id: string; status: string; n: number }>('SELECT stage_id, status, count(*)::int AS n FROM task_runs WHERE job_id = $1 GROUP BY 1, 2 ORDER BY 1, 2', [jobId])
    .then((r) => [`parts ${r.rows.map((p) => `${p.stage_id} ${p.status} ${p.n}`).join(', ')}`], (err: Error) => [`parts: ${err.message}`]);
  return [...seen, ...stages, ...parts].join('; ');
}

/** Ends the row's workflow and processes, starts the services it stopped, deletes its queues. */
async function restore(engine: TestEngine, jobId: string, services: DevServiceName[], children: ChildProcess[], notes: string[]): Promise<void> {
  for (const name of services) await startDevService(name);
  if (jobId) {
    await engine.temporal.workflow
      .getHandle(`job-${jobId}`)
      .terminate('chaos row over')
      .catch(() => undefined); // already closed
  }
  await Promise.all(children.map(end));
  try {
    const { QueueUrls } = await engine.aws.sqs.send(new ListQueuesCommand({ QueueNamePrefix: engine.queuePrefix }));
    await Promise.all((QueueUrls ?? []).map((QueueUrl) => engine.aws.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined)));
  } catch (err) {
    notes.push(`queue cleanup: ${(err as Error).message}`);
  }
}

function outcomeOf(a: Audit, ended: JobStatus | undefined, notes: string[]): string {
  const parts = Object.entries(a.done).map(([s, n]) => `${s} ${n}/${PARTS}`).join(', ');
  let outcome: string;
  if (ended === undefined) outcome = `stuck: ${parts} after ${BOUND_AFTER_RECOVERY_MS / 1000} s (job ${a.status})`;
  else if (ended !== 'succeeded') outcome = `${ended}: ${a.error ?? 'no error recorded'}`;
  else if (a.wrong.length > 0) outcome = `succeeded with wrong output: ${a.wrong[0]}${a.wrong.length > 1 ? ` (+${a.wrong.length - 1} more)` : ''}`;
  else outcome = a.lost || a.countedTwice ? 'succeeded, but parts lost or counted twice' : 'succeeded';
  return [outcome, ...notes].join('; ');
}
