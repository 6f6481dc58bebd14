import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetInstanceProtectionCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import type { Logger } from '../../common/logger';
import { retryAws } from '../../common/sqs/retry';

/** EC2 instance ids: `i-` and 8 or 17 hex digits. */
export const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** Options of the ASG scale-in hooks of a fleet worker running on an EC2 instance of an Auto Scaling group. */
export interface AsgLifecycleOptions {
  /** The instance's Auto Scaling group. Default (createFleetWorker): config BATCHGRID_ASG_NAME. */
  groupName: string;
  /** Scale-in lifecycle hook to complete. Default: config BATCHGRID_ASG_LIFECYCLE_HOOK, else `batchgrid-drain`. */
  hookName?: string;
  /** Auto Scaling client. Default: the worker's clients' (createAwsClients()). */
  autoScaling?: AutoScalingClient;
  /** Between checks of the instance's lifecycle state, in ms. Default: 5000. */
  pollIntervalMs?: number;
  /** How long the worker must be idle before it drops its scale-in protection, in ms. Default: 2000. */
  unprotectAfterIdleMs?: number;
  /** Between lifecycle heartbeats while draining, in ms. Default: 60000. */
  lifecycleHeartbeatMs?: number;
}

/** What the hooks need of the worker. */
export interface LifecycleTarget {
  stats(): { busySlots: number };
  stop(): Promise<void>;
  on(event: 'part:start' | 'part:done' | 'part:failed' | 'part:aborted', listener: () => void): unknown;
  off(event: 'part:start' | 'part:done' | 'part:failed' | 'part:aborted', listener: () => void): unknown;
}

const PART_EVENTS = ['part:start', 'part:done', 'part:failed', 'part:aborted'] as const;

/**
 * Graceful scale-in for a worker on an ASG instance, using only the Auto Scaling API (no database):
 * - while it runs parts the instance is protected from scale-in, so AWS removes idle instances first;
 * - when its instance enters `Terminating:Wait` (a scale-in lifecycle hook), it stops taking parts,
 *   finishes or hands back what it holds (the worker's grace period), keeps the hook alive with
 *   heartbeats meanwhile, and completes the lifecycle action (CONTINUE) before it exits.
 * Failed calls are logged and never stop the worker. Needs autoscaling:DescribeAutoScalingInstances,
 * SetInstanceProtection, RecordLifecycleActionHeartbeat and CompleteLifecycleAction.
 */
export class AsgLifecycle {
  private readonly autoScaling: AutoScalingClient;
  private readonly hookName: string;
  private pollTimer?: NodeJS.Timeout;
  private unprotectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private protectedNow = false;
  private chain: Promise<void> = Promise.resolve();
  private terminating = false;
  private closed = false;
  private readonly onPart = () => this.syncProtection();

  constructor(
    private readonly o: AsgLifecycleOptions & { autoScaling: AutoScalingClient; instanceId: string; log: Logger },
    private readonly worker: LifecycleTarget,
  ) {
    this.autoScaling = o.autoScaling;
    this.hookName = o.hookName ?? 'batchgrid-drain';
  }

  /** True once the instance was seen terminating. */
  get isTerminating(): boolean {
    return this.terminating;
  }

  /** The instance goes whatever its state says now (a spot interruption): close() completes the lifecycle action. */
  expectTermination(): void {
    if (!this.closed) this.terminating = true;
  }

  start(): void {
    for (const e of PART_EVENTS) this.worker.on(e, this.onPart);
    this.pollTimer = setInterval(() => void this.checkLifecycle(), this.o.pollIntervalMs ?? 5000);
    this.pollTimer.unref();
  }

  /** Called by the worker's stop(), before its clients close: ends the timers and, when terminating, completes the lifecycle action. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of PART_EVENTS) this.worker.off(e, this.onPart);
    clearInterval(this.pollTimer);
    clearTimeout(this.unprotectTimer);
    clearInterval(this.heartbeatTimer);
    await this.chain;
    if (!this.terminating) return;
    await this.call('CompleteLifecycleAction', () =>
      this.autoScaling.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: this.o.groupName, LifecycleHookName: this.hookName, InstanceId: this.o.instanceId, LifecycleActionResult: 'CONTINUE' }),
      ),
    );
    this.o.log.info({ instanceId: this.o.instanceId, hook: this.hookName }, 'lifecycle action completed; the instance may terminate');
  }

  /** Reads the instance's lifecycle state; on Terminating(:Wait) starts the drain. Exposed for tests. */
  async checkLifecycle(): Promise<void> {
    if (this.terminating || this.closed) return;
    let state: string | undefined;
    try {
      const r = await this.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [this.o.instanceId] }));
      state = r.AutoScalingInstances?.[0]?.LifecycleState;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not read the instance lifecycle state');
      return;
    }
    if (!state?.startsWith('Terminating') || this.terminating || this.closed) return;
    this.terminating = true;
    this.o.log.info({ instanceId: this.o.instanceId, state }, 'instance is being scaled in; draining');
    if (state === 'Terminating:Wait') {
      const beat = () =>
        void this.call('RecordLifecycleActionHeartbeat', () =>
          this.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: this.o.groupName, LifecycleHookName: this.hookName, InstanceId: this.o.instanceId })),
        );
      this.heartbeatTimer = setInterval(beat, this.o.lifecycleHeartbeatMs ?? 60_000);
      this.heartbeatTimer.unref();
    }
    void this.worker.stop();
  }

  /** Protects the instance as soon as a part runs; unprotects after `unprotectAfterIdleMs` without one. */
  private syncProtection(): void {
    if (this.closed || this.terminating) return;
    const busy = this.worker.stats().busySlots > 0;
    if (busy) {
      clearTimeout(this.unprotectTimer);
      this.unprotectTimer = undefined;
      this.setProtected(true);
    } else if (this.protectedNow && this.unprotectTimer === undefined) {
      this.unprotectTimer = setTimeout(() => {
        this.unprotectTimer = undefined;
        if (this.worker.stats().busySlots === 0) this.setProtected(false);
      }, this.o.unprotectAfterIdleMs ?? 2000);
      this.unprotectTimer.unref();
    }
  }

  private setProtected(value: boolean): void {
    if (this.protectedNow === value) return;
    this.protectedNow = value;
    // Calls run one at a time, in order, so the last word is AWS's state.
    this.chain = this.chain.then(() =>
      this.call('SetInstanceProtection', () =>
        this.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: this.o.groupName, InstanceIds: [this.o.instanceId], ProtectedFromScaleIn: value })),
      ),
    );
  }

  private async call(op: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      // 6 attempts: about the few seconds these calls had when the SDK also retried inside each attempt.
      await retryAws(op, fn, { log: this.o.log, maxAttempts: 6 });
    } catch {
      // Logged by retryAws; scale-in hooks never stop the worker.
    }
  }
}
