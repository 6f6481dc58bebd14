/**
 * The fault suite: each row injects one fault into a real job on the real stack and checks the
 * job's final output exactly — nothing lost, nothing counted twice, the job ends within a bound
 * after recovery. Run with `npm run chaos` (its own stack: it stops and starts services).
 * The table of every row run is printed at the end and saved (see report.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { config } from '../../common/config';
import { exited } from '../support/processes';
import { waitForValue } from '../support/stack';
import { exitsWithin, runFault, writeWorkflowBundle, type FaultSpec, type Rig } from './support/harness';
import { FaultReport } from './support/report';
import { restartDevService, startDevService, stopDevService, type DevServiceName } from './support/services';

const ROW_TIMEOUT_MS = 420_000;
/** How long a process may take to exit after SIGTERM before the row says so and kills it, in ms. */
const EXIT_GRACE_MS = 30_000;

const report = new FaultReport();
let bundle: string;

beforeAll(async () => {
  const cfg = config();
  // The suite stops and starts services: never on the stack everyone else's tests use.
  const shared = [cfg.TEMPORAL_ADDRESS === '127.0.0.1:7233', cfg.BATCHGRID_MOTO_PORT === 5000, cfg.BATCHGRID_ELASTICMQ_PORT === 9324];
  if (shared.some(Boolean)) throw new Error('the chaos suite restarts services: run it on its own stack with `npm run chaos` (scripts/chaos.sh sets one up)');
  bundle = await writeWorkflowBundle();
}, 240_000);

afterAll(() => report.write());

async function check(spec: FaultSpec): Promise<void> {
  const { row, audit, endedWithinBound } = await runFault(spec, bundle);
  report.add(row);
  expect({ outcome: row.outcome, status: audit.status, endedWithinBound, lost: row.lost, countedTwice: row.countedTwice, wrong: audit.wrong }).toEqual({
    outcome: 'succeeded',
    status: 'succeeded',
    endedWithinBound: true,
    lost: 0,
    countedTwice: 0,
    wrong: [],
  });
}

/** Sends signal; if the process is still there after EXIT_GRACE_MS, notes it and kills it. */
async function signalAndWait(rig: Rig, child: ChildProcess, signal: NodeJS.Signals, who: string): Promise<number> {
  child.kill(signal);
  const at = Date.now();
  if (!(await exitsWithin(child, EXIT_GRACE_MS))) {
    rig.notes.push(`the ${who} was still running ${EXIT_GRACE_MS / 1000} s after ${signal}`);
    child.kill('SIGKILL');
    await exited(child);
  } else if (signal === 'SIGTERM' && child.exitCode !== 0) {
    rig.notes.push(`the ${who} exited with ${child.exitCode ?? child.signalCode} after SIGTERM`);
  }
  return at;
}

/** The only orchestrator gets the signal; once it is gone a new one starts (a restart). */
const orchestratorSignal = (signal: NodeJS.Signals): FaultSpec => ({
  fault: `orchestrator ${signal}`,
  async inject(rig) {
    const at = await signalAndWait(rig, rig.orchestrators[0], signal, 'orchestrator');
    await rig.startOrchestrator();
    return at;
  },
});

/** A fleet worker gets the signal while both hold parts; a replacement starts once it is gone. */
const fleetSignal = (signal: NodeJS.Signals): FaultSpec => ({
  fault: `fleet worker ${signal}`,
  async inject(rig) {
    const at = await signalAndWait(rig, rig.fleet[0], signal, 'fleet worker');
    rig.startFleetWorker();
    return at;
  },
});

const restart = (name: DevServiceName, label: string): FaultSpec => ({
  fault: `${label} restart`,
  services: [name],
  async inject() {
    await restartDevService(name);
    return Date.now();
  },
});

const outage = (name: DevServiceName, label: string, seconds: number): FaultSpec => ({
  fault: `${label} ${seconds} s outage`,
  services: [name],
  async inject() {
    await stopDevService(name);
    await delay(seconds * 1000); // the outage itself: a fixed length by definition
    await startDevService(name);
    return Date.now();
  },
});

describe('faults during a job', () => {
  test('orchestrator SIGTERM', () => check(orchestratorSignal('SIGTERM')), ROW_TIMEOUT_MS);

  test('orchestrator SIGKILL', () => check(orchestratorSignal('SIGKILL')), ROW_TIMEOUT_MS);

  test('orchestrator SIGSTOP past the stage heartbeat timeout, then SIGCONT', () =>
    check({
      fault: 'orchestrator SIGSTOP, SIGCONT',
      async inject(rig) {
        // A frozen machine among two: the standby takes the stage over, then the frozen one wakes with its stale attempt.
        const [frozen] = rig.orchestrators;
        await rig.startOrchestrator();
        frozen.kill('SIGSTOP');
        const at = Date.now();
        try {
          await waitForValue('every stage activity to be retried', async () => {
            const attempts = await rig.runStageAttempts().catch(() => []);
            return attempts.length > 0 && attempts.every((n) => n >= 2);
          }, 60_000, 250);
        } catch (err) {
          rig.notes.push((err as Error).message);
        }
        frozen.kill('SIGCONT');
        return at;
      },
    }), ROW_TIMEOUT_MS);

  test('rolling stop: the active orchestrator gets SIGTERM while a second runs', () =>
    check({
      fault: 'rolling stop (2 orchestrators, SIGTERM)',
      async inject(rig) {
        const [active] = rig.orchestrators;
        await rig.startOrchestrator();
        return signalAndWait(rig, active, 'SIGTERM', 'active orchestrator');
      },
    }), ROW_TIMEOUT_MS);

  test('fleet worker SIGKILL', () => check(fleetSignal('SIGKILL')), ROW_TIMEOUT_MS);

  test('fleet worker SIGTERM', () => check(fleetSignal('SIGTERM')), ROW_TIMEOUT_MS);

  test('SQS server restart', () => check(restart('sqs', 'SQS server')), ROW_TIMEOUT_MS);

  test('S3 server restart', () => check(restart('s3', 'S3 server')), ROW_TIMEOUT_MS);

  test('Temporal server restart', () => check(restart('temporal', 'Temporal server')), ROW_TIMEOUT_MS);

  test('Temporal server 60 s outage', () => check(outage('temporal', 'Temporal server', 60)), ROW_TIMEOUT_MS);

  test('Postgres restart', () => check(restart('postgres', 'Postgres')), ROW_TIMEOUT_MS);

  test('Postgres 40 s outage', () => check(outage('postgres', 'Postgres', 40)), ROW_TIMEOUT_MS);
});

