import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createAwsClients, type AwsClients } from '../../common/aws';
import { config, type Config } from '../../common/config';
import { createLogger, type Logger } from '../../common/logger';
import { builtinTasks, exec } from '../builtin';
import { createExecTask } from '../builtin/exec';
import { execPolicyFromSetting, NO_EXEC_POLICY, type ExecPolicy } from '../builtin/exec-policy';
import { FleetWorkerOptionsError } from '../errors';
import { createTaskRegistry, type TaskRegistry } from '../registry';
import { EC2_INSTANCE_ID, type AsgLifecycleOptions } from './asg-lifecycle';
import type { TaskDefinition } from '../task';

/** Options of `createFleetWorker`. */
export interface FleetWorkerOptions {
  /** Fleet name: which input queue to serve (letters, digits, `-`, `_`). */
  fleet: string;
  /** Tasks to register besides the built-ins. Default: none. */
  tasks?: readonly TaskDefinition[];
  /** Register the built-in tasks (noop, test.sleep-fail, lines.count, lines.upper, exec). Default: true. */
  builtins?: boolean;
  /** What the built-in `exec` runs (exec-policy.ts), or `'none'` (not registered). Default: config BATCHGRID_EXEC_POLICY (unset: templates only, none declared, so every command is refused). */
  execPolicy?: ExecPolicy | 'none';
  /** Parts run in parallel. Default: 4. */
  concurrency?: number;
  /** AWS clients. Default: `createAwsClients()`, destroyed when the worker stops. */
  clients?: Pick<AwsClients, 's3' | 'sqs'>;
  /** Queue name prefix. Default: BATCHGRID_QUEUE_PREFIX. */
  queuePrefix?: string;
  /** This worker's id in completions and events. Default: `<host>-<pid>-<random>`. */
  workerId?: string;
  /** Machine id in events. Default: env BATCHGRID_INSTANCE_ID, else `<host>:<pid>`. */
  instanceId?: string;
  /** Visibility timeout set on receipt and renewed (every third of it) while a message's parts wait or run, in seconds. Default: 60. */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait of ReceiveMessage, in seconds (0–20). Default: 20. */
  waitTimeSeconds?: number;
  /** How long `stop()` lets running parts finish before aborting them, in ms. Default: 30000. */
  shutdownGraceMs?: number;
  /** Between heartbeat events, in ms. Default: 10000. */
  heartbeatIntervalMs?: number;
  /** How long a result may wait for others to share its completion message, in ms. Default: 200. */
  completionBatchMaxDelayMs?: number;
  /** How long a deleted completion queue (a cancelled job) is remembered, in ms. Default: 600000. */
  goneQueueMemoryMs?: number;
  /** How long `stop()` keeps retrying AWS calls after the grace period, in ms. Default: 10000. */
  flushTimeoutMs?: number;
  /** Logger. Default: `createLogger('fleet-worker')`. */
  log?: Logger;
  /**
   * Scale-in protection while busy and lifecycle-hook draining on an EC2 Auto Scaling group (see
   * asg-lifecycle.ts); false turns them off. Default: on when env BATCHGRID_ASG_NAME is set and
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

/** Applies defaults and refuses bad values with a sentence naming the option. */
export function compileFleetWorkerOptions(o: FleetWorkerOptions): CompiledFleetWorkerOptions {
  if (typeof o.fleet !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(o.fleet)) {
    throw new FleetWorkerOptionsError(`fleet must be 1–40 letters, digits, '-' or '_' (got ${JSON.stringify(o.fleet)}).`);
  }
  const int = (name: string, value: number | undefined, def: number, min: number, max: number): number => {
    const v = value ?? def;
    if (!Number.isInteger(v) || v < min || v > max) throw new FleetWorkerOptionsError(`${name} must be an integer between ${min} and ${max} (got ${value}).`);
    return v;
  };
  const concurrency = int('concurrency', o.concurrency, 4, 1, 1000);
  const visibilityTimeoutSeconds = int('visibilityTimeoutSeconds', o.visibilityTimeoutSeconds, 60, 3, 43200);
  const waitTimeSeconds = int('waitTimeSeconds', o.waitTimeSeconds, 20, 0, 20);
  const shutdownGraceMs = int('shutdownGraceMs', o.shutdownGraceMs, 30_000, 0, 24 * 3600_000);
  const heartbeatIntervalMs = int('heartbeatIntervalMs', o.heartbeatIntervalMs, 10_000, 100, 3600_000);
  const completionBatchMaxDelayMs = int('completionBatchMaxDelayMs', o.completionBatchMaxDelayMs, 200, 0, 60_000);
  const goneQueueMemoryMs = int('goneQueueMemoryMs', o.goneQueueMemoryMs, 600_000, 0, 24 * 3600_000);
  const flushTimeoutMs = int('flushTimeoutMs', o.flushTimeoutMs, 10_000, 0, 3600_000);
  const queuePrefix = o.queuePrefix ?? config().BATCHGRID_QUEUE_PREFIX;
  if (!/^[A-Za-z0-9_-]{0,20}$/.test(queuePrefix)) throw new FleetWorkerOptionsError(`queuePrefix must be at most 20 letters, digits, '-' or '_' (got ${JSON.stringify(queuePrefix)}).`);
  const registry = createTaskRegistry([...(o.builtins === false ? [] : builtinsWithExec(o.execPolicy ?? configuredExecPolicy())), ...(o.tasks ?? [])]);
  const host = hostname();
  const instanceId = o.instanceId ?? (process.env.BATCHGRID_INSTANCE_ID || `${host}:${process.pid}`);
  const asgName = process.env.BATCHGRID_ASG_NAME;
  const asg = o.asg === false ? undefined : (o.asg ?? (asgName && EC2_INSTANCE_ID.test(instanceId) ? { groupName: asgName, hookName: process.env.BATCHGRID_ASG_LIFECYCLE_HOOK || undefined } : undefined));
  let spot: Required<SpotOptions> | undefined;
  if (o.spot) {
    const given = o.spot === true ? {} : o.spot;
    const endpoint = given.endpoint ?? config().BATCHGRID_IMDS_ENDPOINT;
    if (!/^https?:\/\/[^/]/.test(endpoint)) throw new FleetWorkerOptionsError(`spot.endpoint must be an http(s) URL (got ${JSON.stringify(endpoint)}).`);
    spot = { endpoint, pollIntervalMs: int('spot.pollIntervalMs', given.pollIntervalMs, 5000, 50, 600_000) };
  }
  return {
    fleet: o.fleet,
    concurrency,
    visibilityTimeoutSeconds,
    waitTimeSeconds,
    shutdownGraceMs,
    heartbeatIntervalMs,
    completionBatchMaxDelayMs,
    goneQueueMemoryMs,
    flushTimeoutMs,
    queuePrefix,
    workerId: o.workerId ?? `${host}-${process.pid}-${randomBytes(3).toString('hex')}`,
    instanceId,
    asg,
    spot,
    registry,
    clients: o.clients ?? createAwsClients(),
    ownClients: o.clients === undefined,
    log: o.log ?? createLogger('fleet-worker'),
  };
}
