import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DeleteAutoScalingGroupCommand,
  DeleteLaunchConfigurationCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { PurgeQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { compileFleetObject } from '../../grid/fleet-def';
import { AsgProvider } from '../../grid/providers/asg';
import { scaleFleet, startAutoscaler, stopAutoscaler, type GridDeps } from '../../grid/service';
import { autoscalerStatusQuery, autoscalerWorkflowId, fleetAutoscaler } from '../../workflows/autoscaler';
import type { FleetDef } from '../../grid/types';
import { listDecisions } from '../../store/scaling';
import { createFleetWorker, ensureFleetQueues, type FleetWorker } from '../../worker/fleet';
import { startEngine, type TestEngine } from '../support/engine';
import { waitForValue } from '../support/stack';

/**
 * The ASG provider, the autoscaler on an ASG and the workers' scale-in hooks against moto's Auto
 * Scaling API. moto launches fake instances and honours scale-in protection, but implements neither
 * CompleteLifecycleAction nor RecordLifecycleActionHeartbeat (HTTP 500) and never puts an instance
 * in Terminating:Wait: the lifecycle path is tested with those calls intercepted.
 */
jest.setTimeout(120_000);

let engine: TestEngine;
let deps: GridDeps;
const groups: string[] = [];
const fleets: string[] = [];
const workers: FleetWorker[] = [];
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  engine = await startEngine();
  deps = { db: engine.db.pool, temporal: engine.temporal, taskQueue: engine.taskQueue, autoScaling: engine.aws.autoScaling };
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
  for (const fleet of fleets) await stopAutoscaler(deps, fleet, { wait: true }).catch(() => undefined);
  for (const name of groups) {
    await engine.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })).catch(() => undefined);
    await engine.aws.autoScaling.send(new DeleteLaunchConfigurationCommand({ LaunchConfigurationName: name })).catch(() => undefined);
  }
  await engine?.close();
});

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000) => waitForValue(what, probe, timeoutMs, 200);

/** A moto Auto Scaling group (launch configuration with a moto AMI) of 0..maxSize instances. */
async function createGroup(maxSize = 5): Promise<string> {
  const name = `bg-test-${randomBytes(4).toString('hex')}`;
  await engine.aws.autoScaling.send(new CreateLaunchConfigurationCommand({ LaunchConfigurationName: name, ImageId: 'ami-12c6146b', InstanceType: 't3.micro' }));
  await engine.aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchConfigurationName: name, MinSize: 0, MaxSize: maxSize, DesiredCapacity: 0, AvailabilityZones: ['us-east-1a'] }),
  );
  groups.push(name);
  return name;
}

function fleetDef(obj: Record<string, unknown>): FleetDef {
  const r = compileFleetObject({ apiVersion: 'batchgrid/v1', kind: 'Fleet', period: '1s', scaleInCooldown: '2s', idleTimeout: '3s', ...obj });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  fleets.push(r.fleet.name);
  return r.fleet;
}

const fleetName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

test('the ASG provider: desired capacity changes, protection is set and read back, protected instances survive scale-in', async () => {
  const groupName = await createGroup();
  const provider = new AsgProvider({ autoScaling: engine.aws.autoScaling, groupName, fleet: 'x' });
  expect(await provider.describe()).toEqual({ desired: 0, actual: 0, min: 0, max: 5, instances: [] });

  await provider.setDesired(3);
  const three = await provider.describe();
  expect(three).toMatchObject({ desired: 3, actual: 3 });
  expect(three.instances.map((i) => [i.state, i.protected])).toEqual([['InService', false], ['InService', false], ['InService', false]]);

  const keep = three.instances[1]!.id;
  await provider.setProtection(keep, true);
  expect((await provider.describe()).instances.find((i) => i.id === keep)?.protected).toBe(true);

  await provider.setDesired(0);
  const after = await provider.describe();
  expect(after.desired).toBe(0);
  expect(after.instances.map((i) => [i.id, i.protected])).toEqual([[keep, true]]);
  await provider.setProtection(keep, false);
  expect((await provider.describe()).instances[0]?.protected).toBe(false);

  // (AWS refuses a desired capacity above MaxSize; moto accepts it, so the autoscaler clamps to the group's bounds itself.)
  await expect(new AsgProvider({ autoScaling: engine.aws.autoScaling, groupName: 'no-such-group', fleet: 'x' }).describe()).rejects.toThrow(/does not exist/);
});

test('the autoscaler drives an ASG from the backlog; a manual scale goes through it; without it an ASG is resized directly', async () => {
  const groupName = await createGroup(5);
  const fleet = fleetName('asg');
  // The group's MaxSize (5) is above the definition's max (4): the narrower bound wins.
  await startAutoscaler(deps, fleetDef({ name: fleet, provider: { type: 'asg', groupName }, min: 0, max: 4, targetBacklogPerWorker: 2 }));
  const provider = new AsgProvider({ autoScaling: engine.aws.autoScaling, groupName, fleet });
  const { inputQueueUrl } = await ensureFleetQueues(engine.aws.sqs, engine.queuePrefix, fleet);
  await engine.aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: inputQueueUrl, Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })) }));

  await waitFor('3 instances for 5 messages', async () => (await provider.describe()).actual === 3);
  await engine.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: inputQueueUrl }));
  await waitFor('the group at zero', async () => (await provider.describe()).desired === 0);
  const story = (await listDecisions(engine.db.pool, fleet)).reverse().map((d) => `${d.previous}->${d.desired} ${d.reason.split(':')[0]}`);
  // Usually 3->1 after the cooldown, then 1->0 idle; a slow tick may see both clocks run out at once (3->0 idle).
  expect(story[0]).toBe('0->3 queued from zero');
  expect(story.at(-1)).toMatch(/^[13]->0 idle$/);
  expect(story.slice(1, -1).every((d) => d === '3->1 scale in')).toBe(true);

  const manual = await scaleFleet(deps, fleet, 9);
  expect(manual).toEqual({ previous: 0, desired: 4, reason: 'manual: set to 4 (asked 9, clamped to 0..4)', via: 'autoscaler' });
  expect((await provider.describe()).desired).toBe(4);

  // Stopping the autoscaler leaves an ASG as it is; then a manual scale goes straight to the group.
  await stopAutoscaler(deps, fleet, { wait: true });
  expect((await provider.describe()).desired).toBe(4);
  const direct = await scaleFleet(deps, fleet, 1);
  expect(direct).toMatchObject({ previous: 4, desired: 1, via: 'direct' });
  expect((await provider.describe()).desired).toBe(1);
  expect((await listDecisions(engine.db.pool, fleet, 1))[0]?.reason).toBe('manual: set to 1, no autoscaler running');
});

test('a static fleet is watched, never resized', async () => {
  const fleet = fleetName('static');
  await startAutoscaler(deps, fleetDef({ name: fleet, provider: { type: 'static', size: 2 } }));
  await expect(scaleFleet(deps, fleet, 3)).rejects.toThrow(/static \(2 workers\)/);
});

test('the autoscaler continues as new every ticksPerRun ticks, keeping each run\'s history small', async () => {
  const def = fleetDef({ name: fleetName('can'), provider: { type: 'static', size: 1 } });
  const handle = await engine.temporal.workflow.start(fleetAutoscaler, { workflowId: autoscalerWorkflowId(def.name), taskQueue: engine.taskQueue, args: [{ fleet: def, ticksPerRun: 3 }] });
  await waitFor('two continue-as-new', async () => {
    const runs = [];
    for await (const w of engine.temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(w);
    return runs.length >= 3;
  });
  const current = engine.temporal.workflow.getHandle(handle.workflowId);
  const history = await current.fetchHistory();
  expect(history.events!.length).toBeLessThan(60);
  expect(await current.query(autoscalerStatusQuery)).toMatchObject({ fleet: { name: def.name }, stopping: false });
});

test('a busy worker protects its instance from scale-in, and drops the protection when idle', async () => {
  const groupName = await createGroup();
  const provider = new AsgProvider({ autoScaling: engine.aws.autoScaling, groupName, fleet: 'x' });
  await provider.setDesired(1);
  const instanceId = (await provider.describe()).instances[0]!.id;
  const fleet = fleetName('prot');
  const worker = createFleetWorker({
    fleet, clients: engine.aws, queuePrefix: engine.queuePrefix, instanceId, waitTimeSeconds: 1, log: silent,
    asg: { groupName, autoScaling: engine.aws.autoScaling, unprotectAfterIdleMs: 300, pollIntervalMs: 500 },
  });
  workers.push(worker);
  await worker.start();
  const isProtected = async () => (await provider.describe()).instances[0]!.protected;
  expect(await isProtected()).toBe(false);

  const { handle } = await engine.submit({ name: 'protect', fleet, stages: [{ id: 'a', task: 'test.sleep-fail', params: { sleepMs: 2500 } }] }, { 'x.txt': 'x\n' });
  await waitFor('protection while the part runs', isProtected);
  expect((await handle.result()).status).toBe('succeeded');
  await waitFor('protection dropped when idle', async () => !(await isProtected()));
});

test('a worker whose instance is being scaled in finishes its part, then completes the lifecycle action', async () => {
  const groupName = await createGroup();
  const provider = new AsgProvider({ autoScaling: engine.aws.autoScaling, groupName, fleet: 'x' });
  await provider.setDesired(1);
  const instanceId = (await provider.describe()).instances[0]!.id;
  // moto has no lifecycle actions: intercept them (and the lifecycle state), pass the rest through.
  const trail: string[] = [];
  let terminating = false;
  const autoScaling = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      if (name === 'DescribeAutoScalingInstances' && terminating) return { AutoScalingInstances: [{ InstanceId: instanceId, LifecycleState: 'Terminating:Wait' }] };
      if (name === 'CompleteLifecycleAction' || name === 'RecordLifecycleActionHeartbeat') {
        trail.push(`${name} ${JSON.stringify(command.input)}`);
        return {};
      }
      return engine.aws.autoScaling.send(command as never);
    },
  } as unknown as AutoScalingClient;
  const fleet = fleetName('drain');
  const worker = createFleetWorker({
    fleet, clients: engine.aws, queuePrefix: engine.queuePrefix, instanceId, waitTimeSeconds: 1, shutdownGraceMs: 10_000, log: silent,
    asg: { groupName, autoScaling, pollIntervalMs: 200, lifecycleHeartbeatMs: 500 },
  });
  workers.push(worker);
  worker.on('part:start', () => void (terminating = true));
  worker.on('part:done', () => void trail.push('part:done'));
  await worker.start();

  const { handle } = await engine.submit({ name: 'drain', fleet, stages: [{ id: 'a', task: 'test.sleep-fail', params: { sleepMs: 2000 } }] }, { 'x.txt': 'x\n' });
  const summary = await handle.result();
  expect(summary.status).toBe('succeeded');
  await worker.stop(); // the same drain the worker started itself
  const complete = `CompleteLifecycleAction ${JSON.stringify({ AutoScalingGroupName: groupName, LifecycleHookName: 'batchgrid-drain', InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' })}`;
  expect(trail.filter((t) => !t.startsWith('RecordLifecycleActionHeartbeat'))).toEqual(['part:done', complete]);
  expect(trail.some((t) => t.startsWith('RecordLifecycleActionHeartbeat'))).toBe(true);
});
