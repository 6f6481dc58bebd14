import { FleetProviderError } from '../errors';
import type { FleetCapacity, FleetProvider } from './provider';

export interface StaticProviderOptions {
  fleet: string;
  size: number;
  /** Workers seen alive (from worker events), reported as `actual`. Default: `size`. */
  countLive?: () => Promise<number>;
}

/**
 * A fixed fleet started by someone else (systemd units, a Kubernetes deployment, a laptop). The
 * autoscaler still drains its worker events and records what it sees, but cannot resize it.
 */
export class StaticProvider implements FleetProvider {
  readonly type = 'static';

  constructor(private readonly o: StaticProviderOptions) {}

  async describe(): Promise<FleetCapacity> {
    const actual = this.o.countLive ? await this.o.countLive() : this.o.size;
    return { desired: this.o.size, actual, min: this.o.size, max: this.o.size, instances: [] };
  }

  /** Accepts its own size (nothing to do) and refuses any other. */
  async setDesired(n: number): Promise<void> {
    if (n === this.o.size) return;
    throw new FleetProviderError(
      this.o.fleet,
      this.type,
      `Fleet ${this.o.fleet} is static (${this.o.size} workers): batchgrid cannot resize it. Start or stop its workers yourself, or give it a local or asg provider.`,
    );
  }

  /** Nothing to protect from: a static fleet is never scaled in. */
  async setProtection(): Promise<void> {}

  async completeTermination(): Promise<void> {}
}
