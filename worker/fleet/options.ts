import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createAwsClients, FLEET_WORKER_SDK_ATTEMPTS, type AwsClients } from '../../common/aws';
import { config, type Config } from '../../common/config';
import { createLogger, type Logger } from '../../common/logger';
import { builtinTasks, exec } from '../builtin';
import { createExecTask } from '../builtin/exec';
import { execPolicyFromSetting, NO_EXEC_POLICY, type ExecPolicy } from '../builtin/exec-policy';
import { FleetWorkerOptionsError } from '../errors';
import { createTaskRegistry, type TaskRegistry } from '../registry';
import { EC2_INSTANCE_ID, type AsgLifecycleOptions } from './asg-lifecycle';
import type { TaskDefinition } from '../task';

/** A whole-number option with its bounds and default; refused with a sentence naming it and the value given. */
function wholeNumber(name: string, min: number, max: number, byDefault: number) {
  const error = (issue: { input?: unknown }) => `${name} must be an integer between ${min} and ${max} (got ${issue.input}).`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).default(byDefault);
}

/** A spot watcher's poll interval: 50 ms to 10 min, default 5 s. */
function spotPollIntervalMs(given: number | undefined): number {
  const parsed = wholeNumber('spot.pollIntervalMs', 50, 600_000, 5000).safeParse(given);
  if (!parsed.success) throw new FleetWorkerOptionsError(parsed.error.issues.map((i) => i.message).join(' '));
  return parsed.data;
}

const NAME = /^[A-Za-z0-9_-]{1,40}$/;
const fleetError = (issue: { input?: unknown }) => `fleet must be 1–40 letters, digits, '-' or '_' (got ${JSON.stringify(issue.input)}).`;
const prefixError = (issue: { input?: unknown }) => `queuePrefix must be at most 20 letters, digits, '-' or '_' (got ${JSON.stringify(issue.input)}).`;

/** The fleet worker's settings that are plain values: checked, and defaulted, by one schema. */
const FleetWorkerSettings = z.object({
  /** Fleet name: which input queue to serve (letters, digits, `-`, `_`). */
  fleet: z.string({ error: fleetError }).regex(NAME, { error: fleetError }),
  /** Parts run in parallel. Default: 4. */
  concurrency: wholeNumber('concurrency', 1, 1000, 4),
  /** Visibility timeout set on receipt and renewed (every third of it) while a message's parts wait or run, in seconds. Default: 60. */
  visibilityTimeoutSeconds: wholeNumber('visibilityTimeoutSeconds', 3, 43_200, 60),
  /** Long-poll wait of ReceiveMessage, in seconds (0–20). Default: 20. */
  waitTimeSeconds: wholeNumber('waitTimeSeconds', 0, 20, 20),
  /** How long `stop()` lets running parts finish before aborting them, in ms (at most a day). Default: 30000. */
  shutdownGraceMs: wholeNumber('shutdownGraceMs', 0, 24 * 3600_000, 30_000),
  /** Between heartbeat events, in ms (100 ms to an hour). Default: 10000. */
  heartbeatIntervalMs: wholeNumber('heartbeatIntervalMs', 100, 3600_000, 10_000),
  /** How long a result may wait for others to share its completion message, in ms (at most a minute). Default: 200. */
  completionBatchMaxDelayMs: wholeNumber('completionBatchMaxDelayMs', 0, 60_000, 200),
  /** How long a deleted completion queue (a cancelled job) is remembered, in ms (at most a day). Default: 600000. */
  goneQueueMemoryMs: wholeNumber('goneQueueMemoryMs', 0, 24 * 3600_000, 600_000),
  /** How long `stop()` keeps retrying AWS calls after the grace period, in ms (at most an hour). Default: 10000. */
  flushTimeoutMs: wholeNumber('flushTimeoutMs', 0, 3600_000, 10_000),
  /** Queue name prefix (at most 20 letters, digits, `-`, `_`). Default: config BATCHGRID_QUEUE_PREFIX. */
  queuePrefix: z.string({ error: prefixError }).regex(/^[A-Za-z0-9_-]{0,20}$/, { error: prefixError }).optional(),
});

/** Options of `createFleetWorker`: the settings above, and what cannot be plain values. */
export interface FleetWorkerOptions extends z.input<typeof FleetWorkerSettings> {
  /** Tasks to register besides the built-ins. Default: none. */
  tasks?: readonly TaskDefinition[];
  /** Register the built-in tasks (noop, test.sleep-fail, lines.count, lines.upper, exec). Default: true. */
  builtins?: boolean;
  /** What the built-in `exec` runs (exec-policy.ts), or `'none'` (not registered). Default: config BATCHGRID_EXEC_POLICY (unset: templates only, none declared, so every command is refused). */
  execPolicy?: ExecPolicy | 'none';
  /** AWS clients. Default: `createAwsClients()` with FLEET_WORKER_SDK_ATTEMPTS (the worker retries its SQS calls itself), destroyed when the worker stops. */
  clients?: Pick<AwsClients, 's3' | 'sqs'>;
  /** This worker's id in completions and events. Default: `<host>-<pid>-<random>`. */
  workerId?: string;
  /** Machine id in events. Default: config BATCHGRID_INSTANCE_ID, else `<host>:<pid>`. */
  instanceId?: string;
  /** Logger. Default: `createLogger('fleet-worker')`. */
  log?: Logger;
  /**
   * Scale-in protection while busy and lifecycle-hook draining on an EC2 Auto Scaling group (see
   * asg-lifecycle.ts); false turns them off. Default: on when config BATCHGRID_ASG_NAME is set and
   * instanceId is an EC2 instance id (hook name from BATCHGRID_ASG_LIFECYCLE_HOOK).
   */
  asg?: AsgLifecycleOptions | false;
  /**
   * Watch the EC2 spot interruption notices (spot.ts): on an interruption the worker stops taking
   * parts, hands back at once the parts that cannot finish before the instance goes (no attempt
   * spent) and stops; on a rebalance recommendation it stops gracefully. true for the defaults.
   * Default: off (`fleet-worker --spot`, or a fleet definition with `spot: true`, turn it on).
   */
  spot?: boolean | SpotOptions;
}

/** Where and how often a spot-watching worker asks for notices. */
export interface SpotOptions {
  /** The instance metadata service. Default: config BATCHGRID_IMDS_ENDPOINT (http://169.254.169.254). */
  endpoint?: string;
  /** Between checks, in ms. Default: 5000 (AWS suggests every 5 s). */
  pollIntervalMs?: number;
}

export interface CompiledFleetWorkerOptions extends Required<Omit<FleetWorkerOptions, 'tasks' | 'builtins' | 'execPolicy' | 'clients' | 'log' | 'asg' | 'spot'>> {
  asg?: AsgLifecycleOptions;
  /** Present when spot watching is on. */
  spot?: Required<SpotOptions>;
  registry: TaskRegistry;
  clients: Pick<AwsClients, 's3' | 'sqs'>;
  /** True when the worker made its clients (and so destroys them). */
  ownClients: boolean;
  log: Logger;
}

/** The policy of config BATCHGRID_EXEC_POLICY; refuses to start on the removed BATCHGRID_EXEC_ALLOW, which checked program names only. */
export function configuredExecPolicy(c: Pick<Config, 'BATCHGRID_EXEC_ALLOW' | 'BATCHGRID_EXEC_POLICY'> = config()): ExecPolicy | 'none' {
  if (c.BATCHGRID_EXEC_ALLOW !== undefined) {
    throw new FleetWorkerOptionsError(
      'BATCHGRID_EXEC_ALLOW was removed: it checked only the program name, so arguments (sort --compress-program=sh) and env (PATH) escaped it. Unset it and set BATCHGRID_EXEC_POLICY to an exec policy file of command templates (docs/aws.md, examples/exec/exec-policy.yaml), to none (no exec), or to unrestricted on a single-user machine only.',
    );
  }
  return execPolicyFromSetting(c.BATCHGRID_EXEC_POLICY);
}

/** The built-in tasks, with `exec` left out or bound to the policy. */
function builtinsWithExec(policy: ExecPolicy | 'none'): TaskDefinition[] {
  const others = builtinTasks.filter((t) => t !== exec) as TaskDefinition[];
  if (policy === 'none') return others;
  return [...others, (policy === NO_EXEC_POLICY ? exec : createExecTask({ policy })) as TaskDefinition];
}

/** The registry a fleet worker runs: the built-ins (with `exec` bound to the policy, default from config) and a task module's tasks. */
export function fleetTaskRegistry(o: { tasks?: readonly TaskDefinition[]; builtins?: boolean; execPolicy?: ExecPolicy | 'none' }, c: Pick<Config, 'BATCHGRID_EXEC_ALLOW' | 'BATCHGRID_EXEC_POLICY'> = config()): TaskRegistry {
  return createTaskRegistry([...(o.builtins === false ? [] : builtinsWithExec(o.execPolicy ?? configuredExecPolicy(c))), ...(o.tasks ?? [])]);
}

/** The configuration the defaults come from. */
type FleetWorkerConfig = Pick<Config, 'BATCHGRID_QUEUE_PREFIX' | 'BATCHGRID_EXEC_ALLOW' | 'BATCHGRID_EXEC_POLICY' | 'BATCHGRID_INSTANCE_ID' | 'BATCHGRID_ASG_NAME' | 'BATCHGRID_ASG_LIFECYCLE_HOOK'>;

/** Applies defaults and refuses bad values, every one with a sentence naming the option. */
export function compileFleetWorkerOptions(o: FleetWorkerOptions, c: FleetWorkerConfig = config()): CompiledFleetWorkerOptions {
  const parsed = FleetWorkerSettings.safeParse(o);
  if (!parsed.success) throw new FleetWorkerOptionsError(parsed.error.issues.map((i) => i.message).join(' '));
  const settings = { ...parsed.data, queuePrefix: parsed.data.queuePrefix ?? c.BATCHGRID_QUEUE_PREFIX };
  const registry = fleetTaskRegistry(o, c);
  const host = hostname();
  const instanceId = o.instanceId ?? c.BATCHGRID_INSTANCE_ID ?? `${host}:${process.pid}`;
  const asgOnEc2 = c.BATCHGRID_ASG_NAME && EC2_INSTANCE_ID.test(instanceId) ? { groupName: c.BATCHGRID_ASG_NAME, hookName: c.BATCHGRID_ASG_LIFECYCLE_HOOK } : undefined;
  const asg = o.asg === false ? undefined : (o.asg ?? asgOnEc2);
  let spot: Required<SpotOptions> | undefined;
  if (o.spot) {
    const given = o.spot === true ? {} : o.spot;
    const endpoint = given.endpoint ?? config().BATCHGRID_IMDS_ENDPOINT;
    if (!/^https?:\/\/[^/]/.test(endpoint)) throw new FleetWorkerOptionsError(`spot.endpoint must be an http(s) URL (got ${JSON.stringify(endpoint)}).`);
    spot = { endpoint, pollIntervalMs: spotPollIntervalMs(given.pollIntervalMs) };
  }
  return {
    ...settings,
    workerId: o.workerId ?? `${host}-${process.pid}-${randomBytes(3).toString('hex')}`,
    instanceId,
    asg,
    spot,
    registry,
    clients: o.clients ?? createAwsClients(config(), FLEET_WORKER_SDK_ATTEMPTS),
    ownClients: o.clients === undefined,
    log: o.log ?? createLogger('fleet-worker'),
  };
}
