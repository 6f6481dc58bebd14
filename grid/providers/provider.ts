/** The one small interface every source of fleet capacity implements (local processes, an ASG, a static fleet). */

/** A machine or process of the fleet as the provider sees it. */
export interface FleetInstance {
  /** EC2 instance id, or `<host>:<pid>` for a local worker (the `instanceId` its worker events carry). */
  id: string;
  /** `running`, `starting`, `terminating`, or the provider's own word (an ASG LifecycleState such as `InService`). */
  state: string;
  /** Protected from scale-in: the provider picks others first (ASG: never removes it). */
  protected: boolean;
}

export interface FleetCapacity {
  /** Capacity the provider is asked to keep. */
  desired: number;
  /** Instances up or coming up (not those being removed). */
  actual: number;
  /** The provider's own bounds (an ASG's MinSize/MaxSize; the definition's for others). */
  min: number;
  max: number;
  instances: FleetInstance[];
}

/** Hints that help a provider pick which instances to remove. */
export interface ScaleHints {
  /** Busy slots per instance id, from the latest worker events: idle instances go first. */
  busySlots?: Readonly<Record<string, number>>;
}

export interface FleetProvider {
  /** `local`, `asg` or `static`. */
  readonly type: string;
  describe(): Promise<FleetCapacity>;
  /** Asks for `n` instances; resolves once the request is made (removed instances drain in the background). */
  setDesired(n: number, hints?: ScaleHints): Promise<void>;
  setProtection(instanceId: string, isProtected: boolean): Promise<void>;
  /** Lets a terminating instance go (ASG lifecycle hook: CONTINUE); a no-op where there are no hooks. */
  completeTermination(instanceId: string, hookName?: string, token?: string): Promise<void>;
  /** Repairs drift between desired and actual (a crashed local worker is replaced); optional. */
  reconcile?(hints?: ScaleHints): Promise<void>;
}
