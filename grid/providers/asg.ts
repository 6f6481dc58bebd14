import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { FleetProviderError } from '../errors';
import type { FleetCapacity, FleetProvider } from './provider';

/** The lifecycle hook name workers and the provider use when the definition names none. */
export const DEFAULT_LIFECYCLE_HOOK = 'batchgrid-drain';

/** LifecycleStates of instances that count as capacity (up or coming up). */
const UP_STATES = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService', 'Warmed:Pending', 'Warmed:Running']);

export interface AsgProviderOptions {
  autoScaling: AutoScalingClient;
  groupName: string;
  /** Fleet name, for error messages. */
  fleet: string;
  /** Lifecycle hook of scale-in. Default: `batchgrid-drain`. */
  lifecycleHook?: string;
}

/**
 * An EC2 Auto Scaling group. The ASG itself launches and terminates instances; this only sets
 * desired capacity (without honouring the group's cooldown: the autoscaler has its own) and
 * instance protection, and completes scale-in lifecycle actions. Instances protected from scale-in
 * are never removed by AWS, which is how a busy worker keeps its parts (see worker/fleet/asg-lifecycle.ts).
 */
export class AsgProvider implements FleetProvider {
  readonly type = 'asg';

  constructor(private readonly o: AsgProviderOptions) {}

  async describe(): Promise<FleetCapacity> {
    const r = await this.call('DescribeAutoScalingGroups', () => this.o.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.o.groupName] })));
    const group = r.AutoScalingGroups?.[0];
    if (!group) throw new FleetProviderError(this.o.fleet, this.type, `Auto Scaling group ${this.o.groupName} does not exist (fleet ${this.o.fleet}).`);
    const instances = (group.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '', state: i.LifecycleState ?? 'unknown', protected: i.ProtectedFromScaleIn === true }));
    return {
      desired: group.DesiredCapacity ?? 0,
      actual: instances.filter((i) => UP_STATES.has(i.state)).length,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      instances,
    };
  }

  async setDesired(n: number): Promise<void> {
    await this.call('SetDesiredCapacity', () =>
      this.o.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.o.groupName, DesiredCapacity: n, HonorCooldown: false })),
    );
  }

  async setProtection(instanceId: string, isProtected: boolean): Promise<void> {
    await this.call('SetInstanceProtection', () =>
      this.o.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: this.o.groupName, InstanceIds: [instanceId], ProtectedFromScaleIn: isProtected })),
    );
  }

  /** CONTINUE on the scale-in lifecycle action. (moto 5 does not implement CompleteLifecycleAction: it answers HTTP 500.) */
  async completeTermination(instanceId: string, hookName?: string, token?: string): Promise<void> {
    await this.call('CompleteLifecycleAction', () =>
      this.o.autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: this.o.groupName,
          LifecycleHookName: hookName ?? this.o.lifecycleHook ?? DEFAULT_LIFECYCLE_HOOK,
          LifecycleActionResult: 'CONTINUE',
          ...(token ? { LifecycleActionToken: token } : { InstanceId: instanceId }),
        }),
      ),
    );
  }

  /** Extends the lifecycle hook's timeout while an instance drains. (moto 5 does not implement it either.) */
  async recordTerminationHeartbeat(instanceId: string, hookName?: string, token?: string): Promise<void> {
    await this.call('RecordLifecycleActionHeartbeat', () =>
      this.o.autoScaling.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: this.o.groupName,
          LifecycleHookName: hookName ?? this.o.lifecycleHook ?? DEFAULT_LIFECYCLE_HOOK,
          ...(token ? { LifecycleActionToken: token } : { InstanceId: instanceId }),
        }),
      ),
    );
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FleetProviderError) throw err;
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw new FleetProviderError(
        this.o.fleet,
        this.type,
        `${operation} on Auto Scaling group ${this.o.groupName} failed: ${e.name ?? 'Error'}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${e.message ?? String(err)}`,
        { cause: err },
      );
    }
  }
}
