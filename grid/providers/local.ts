import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../common/logger';
import type { FleetCapacity, FleetInstance, FleetProvider, ScaleHints } from './provider';

export interface LocalProviderOptions {
  fleet: string;
  /** Queue name prefix the workers use (their BATCHGRID_QUEUE_PREFIX). */
  queuePrefix: string;
  /** Parts each worker runs at once (`--concurrency`). */
  concurrency: number;
  /** Task module each worker loads (`--tasks`), if any. */
  tasks?: string;
  /** Grace of a worker asked to stop (`--grace-ms`), in ms. */
  shutdownGraceMs: number;
  /** The workers watch spot interruption notices (`--spot`), for a local fleet on an EC2 spot instance. Default: false. */
  spot?: boolean;
  /** Bounds reported by describe(). */
  min: number;
  max: number;
  /** The CLI entry point, `dist/manager/cli/main.js`. */
  cliPath: string;
  /** Folder of the workers' logs, `fleet-<fleet>-<n>.log`. */
  logsDir: string;
  /** File remembering the workers' pids, so a restarted orchestrator adopts them instead of starting more. Default: none. */
  stateFile?: string;
  /** How long after the grace period a stopping worker is killed (SIGKILL), in ms. Default: 15000. */
  killAfterGraceMs?: number;
  /** Environment of the workers. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

interface LocalWorker {
  /** Sequence number: names the log file. */
  n: number;
  pid: number;
  /** `<host>:<pid>`: the instance id the worker reports in its events. */
  id: string;
  startedAt: number;
  terminating: boolean;
  protected: boolean;
  /** Our child (exit events); undefined for a worker adopted from a previous orchestrator (polled instead). */
  proc?: ChildProcess;
  killTimer?: NodeJS.Timeout;
}

const host = hostname();

/** True when a process with this pid exists (and we may signal it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** On Linux, makes sure a remembered pid is still one of this fleet's workers (pids are reused). */
function isFleetWorker(pid: number, fleet: string): boolean {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('fleet-worker') && args[args.indexOf('--fleet') + 1] === fleet;
  } catch {
    return !fs.existsSync('/proc') && alive(pid);
  }
}

/**
 * A fleet of `batchgrid fleet-worker` processes on this machine, children of the process that owns
 * this provider (the orchestrator running the autoscaler's activities). Scale-out spawns workers;
 * scale-in sends SIGTERM to idle, then youngest, unprotected workers, which stop taking parts,
 * finish or hand back what they hold within their grace period and exit 0; one still alive
 * `killAfterGraceMs` after that is killed. Pids are checked on every describe(), so a crashed
 * worker stops counting and the next reconcile() replaces it.
 */
export class LocalProvider implements FleetProvider {
  readonly type = 'local';
  private readonly workers = new Map<number, LocalWorker>();
  private desired = 0;
  private seq = 0;

  constructor(private o: LocalProviderOptions) {
    this.adopt();
  }

  /** Applies a new definition's settings; running workers keep theirs, new ones get them. */
  update(options: Partial<Pick<LocalProviderOptions, 'concurrency' | 'tasks' | 'shutdownGraceMs' | 'spot' | 'min' | 'max'>>): void {
    this.o = { ...this.o, ...options };
  }

  async describe(): Promise<FleetCapacity> {
    this.prune();
    const instances: FleetInstance[] = [...this.workers.values()].map((w) => ({ id: w.id, state: w.terminating ? 'terminating' : 'running', protected: w.protected }));
    return { desired: this.desired, actual: instances.filter((i) => i.state === 'running').length, min: this.o.min, max: this.o.max, instances };
  }

  async setDesired(n: number, hints?: ScaleHints): Promise<void> {
    this.desired = n;
    await this.reconcile(hints);
  }

  async setProtection(instanceId: string, isProtected: boolean): Promise<void> {
    for (const w of this.workers.values()) if (w.id === instanceId) w.protected = isProtected;
  }

  /** Local workers have no lifecycle hooks: a worker is gone when its process exits. */
  async completeTermination(): Promise<void> {}

  /** Starts or stops workers until as many run as desired. */
  async reconcile(hints: ScaleHints = {}): Promise<void> {
    this.prune();
    const running = [...this.workers.values()].filter((w) => !w.terminating);
    for (let i = running.length; i < this.desired; i++) this.spawnWorker();
    if (running.length > this.desired) {
      const busy = (w: LocalWorker) => hints.busySlots?.[w.id] ?? 0;
      const victims = running
        .filter((w) => !w.protected)
        .sort((a, b) => Number(busy(a) > 0) - Number(busy(b) > 0) || b.startedAt - a.startedAt || b.n - a.n)
        .slice(0, running.length - this.desired);
      for (const w of victims) this.terminate(w);
    }
    this.saveState();
  }

  /** Stops every worker (SIGTERM, then SIGKILL after grace) and waits until all have exited or `timeoutMs` passed. */
  async close(timeoutMs = this.o.shutdownGraceMs + (this.o.killAfterGraceMs ?? 15_000) + 5_000): Promise<void> {
    this.desired = 0;
    for (const w of this.workers.values()) this.terminate(w);
    const deadline = Date.now() + timeoutMs;
    while (this.prune() > 0 && Date.now() < deadline) await sleep(100);
    this.saveState();
  }

  /** Sends SIGTERM to every worker at once, synchronously (for process 'exit' handlers). */
  signalAll(signal: NodeJS.Signals = 'SIGTERM'): void {
    for (const w of this.workers.values()) {
      try {
        process.kill(w.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  private spawnWorker(): void {
    const n = ++this.seq;
    fs.mkdirSync(this.o.logsDir, { recursive: true });
    const logFile = path.join(this.o.logsDir, `fleet-${this.o.fleet}-${n}.log`);
    const out = fs.openSync(logFile, 'a');
    const args = [this.o.cliPath, 'fleet-worker', '--fleet', this.o.fleet, '--concurrency', String(this.o.concurrency), '--grace-ms', String(Math.max(1, this.o.shutdownGraceMs))];
    if (this.o.tasks) args.push('--tasks', this.o.tasks);
    if (this.o.spot) args.push('--spot');
    let proc: ChildProcess;
    try {
      // An empty BATCHGRID_INSTANCE_ID makes the worker report `<host>:<pid>`, the id describe() gives it.
      proc = spawn(process.execPath, args, { env: { ...(this.o.env ?? process.env), BATCHGRID_QUEUE_PREFIX: this.o.queuePrefix, BATCHGRID_INSTANCE_ID: '' }, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    if (proc.pid === undefined) {
      this.o.log?.error({ fleet: this.o.fleet, logFile }, 'could not start a local fleet worker');
      proc.on('error', () => undefined);
      return;
    }
    const pid = proc.pid;
    const w: LocalWorker = { n, pid, id: `${host}:${pid}`, startedAt: Date.now(), terminating: false, protected: false, proc };
    this.workers.set(pid, w);
    proc.on('error', (err) => this.o.log?.warn({ fleet: this.o.fleet, pid, err: err.message }, 'local fleet worker error'));
    proc.on('exit', (code, signal) => {
      clearTimeout(w.killTimer);
      this.workers.delete(pid);
      const expected = w.terminating && (code === 0 || signal !== null);
      this.o.log?.[expected ? 'info' : 'warn']({ fleet: this.o.fleet, pid, code, signal, logFile }, expected ? 'local fleet worker stopped' : 'local fleet worker exited unexpectedly');
      this.saveState();
    });
    this.o.log?.info({ fleet: this.o.fleet, pid, n, logFile }, 'local fleet worker started');
  }

  private terminate(w: LocalWorker): void {
    if (w.terminating) return;
    w.terminating = true;
    this.o.log?.info({ fleet: this.o.fleet, pid: w.pid }, 'stopping local fleet worker');
    try {
      process.kill(w.pid, 'SIGTERM');
    } catch {
      this.workers.delete(w.pid);
      return;
    }
    w.killTimer = setTimeout(() => {
      if (!alive(w.pid)) return;
      this.o.log?.warn({ fleet: this.o.fleet, pid: w.pid }, 'local fleet worker still running after its grace period; killing it');
      try {
        process.kill(w.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, this.o.shutdownGraceMs + (this.o.killAfterGraceMs ?? 15_000));
    w.killTimer.unref();
  }

  /** Forgets workers whose process is gone; returns how many remain. */
  private prune(): number {
    for (const [pid, w] of this.workers) {
      // Our children are removed by their exit event; adopted ones (and zombies' edge cases) by polling.
      if (!alive(pid) || (w.proc && (w.proc.exitCode !== null || w.proc.signalCode !== null))) {
        clearTimeout(w.killTimer);
        this.workers.delete(pid);
      }
    }
    return this.workers.size;
  }

  /** Takes over workers a previous owner of this fleet left running (orchestrator restarted). */
  private adopt(): void {
    if (!this.o.stateFile) return;
    let saved: { pid: number; n: number; startedAt: number }[] = [];
    try {
      saved = JSON.parse(fs.readFileSync(this.o.stateFile, 'utf8')).workers ?? [];
    } catch {
      return;
    }
    for (const s of saved) {
      if (!isFleetWorker(s.pid, this.o.fleet)) continue;
      this.workers.set(s.pid, { n: s.n, pid: s.pid, id: `${host}:${s.pid}`, startedAt: s.startedAt, terminating: false, protected: false });
      this.seq = Math.max(this.seq, s.n);
    }
    this.desired = this.workers.size;
    if (this.workers.size > 0) this.o.log?.info({ fleet: this.o.fleet, pids: [...this.workers.keys()] }, 'adopted local fleet workers of a previous orchestrator');
  }

  private saveState(): void {
    const file = this.o.stateFile;
    if (!file) return;
    try {
      if (this.workers.size === 0) {
        fs.rmSync(file, { force: true });
        return;
      }
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const workers = [...this.workers.values()].map((w) => ({ pid: w.pid, n: w.n, startedAt: w.startedAt }));
      fs.writeFileSync(file, JSON.stringify({ fleet: this.o.fleet, queuePrefix: this.o.queuePrefix, workers }));
    } catch (err) {
      this.o.log?.warn({ file, err: (err as Error).message }, 'could not save local fleet state');
    }
  }
}
