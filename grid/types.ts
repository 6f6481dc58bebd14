/**
 * The compiled form of a fleet definition and the autoscaler's contracts. Types only: workflows,
 * activities, the CLI and the HTTP API share them.
 */

/** How the fleet's capacity is provided. */
export type ProviderDef =
  /** Worker processes on this machine, children of the orchestrator that runs the autoscaler. */
  | { type: 'local'; concurrency: number; tasks?: string }
  /** An EC2 Auto Scaling group whose instances run `batchgrid fleet-worker`. */
  | { type: 'asg'; groupName: string; lifecycleHook?: string }
  /** Workers started by someone else; the autoscaler only watches them. */
  | { type: 'static'; size: number };

export type ProviderType = ProviderDef['type'];

/** A validated fleet definition (`kind: Fleet`), durations in ms. */
export interface FleetDef {
  apiVersion: 'batchgrid/v1';
  kind: 'Fleet';
  /** Fleet name = the input queue pipelines name in `fleet:`. */
  name: string;
  description?: string;
  provider: ProviderDef;
  /** Fewest workers. */
  min: number;
  /** Most workers. */
  max: number;
  /** Queued + in-flight task messages one worker should carry; desired = ceil(backlog / this). */
  targetBacklogPerWorker: number;
  /**
   * Expected work (remaining parts × their stage's mean run time, in ms) one worker should carry.
   * When set, stages whose parts' run times are known count by work, not by parts: a fleet grows to
   * what long parts need and not to what short ones would. Default: none (parts only).
   */
  targetWorkPerWorkerMs?: number;
  /** Between autoscaler ticks, in ms. */
  periodMs: number;
  /** How long the backlog must call for fewer workers before the fleet shrinks, in ms. */
  scaleInCooldownMs: number;
  /** How long the queue must stay empty before the fleet goes to zero (when min is 0), in ms. */
  idleTimeoutMs: number;
  /** How long a worker being removed may finish its parts before it hands them back, in ms. */
  shutdownGraceMs: number;
  /** A worker not heard from for this long is marked lost, in ms. */
  workerLostAfterMs: number;
  /** What one worker costs per hour up, in any currency; reports show no cost without it. Default: none. */
  pricePerWorkerHour?: number;
  /**
   * The workers run on EC2 spot instances and watch the interruption notices: on one a worker hands
   * back at once the parts it cannot finish (no attempt spent) and stops. A local fleet's workers
   * get `--spot`; on an Auto Scaling group the launch template's user data passes it.
   */
  spot: boolean;
}

/** One problem with a definition: `path` like `provider.groupName`, and the YAML line when known. */
export interface FleetProblem {
  path: string;
  message: string;
  line?: number;
}

export type FleetCompileResult = { ok: true; fleet: FleetDef } | { ok: false; problems: FleetProblem[] };
