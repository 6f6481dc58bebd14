import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { distPath } from '../../common/paths';

/**
 * The demo's engine: an orchestrator and a few fleet workers as plain child processes of the
 * compiled CLI, each logging to its own file. (A real deployment runs them as services, and the
 * grid's fleet provider scales the workers.)
 */

/** Workers of one fleet. */
export interface LocalFleet {
  /** Fleet name (`--fleet`). Default: `default`. */
  fleet?: string;
  /** Fleet worker processes. */
  workers: number;
  /** Parts each worker runs at once. */
  concurrency: number;
  /** Compiled task module the workers load (`--tasks`), if any. */
  tasksModule?: string;
  /** Exec policy file of the built-in `exec` task (`--exec-policy`), if any. */
  execPolicy?: string;
}

export interface LocalEngineOptions {
  /** The fleets and their workers. */
  fleets: readonly LocalFleet[];
  /** Folder of the processes' log files. */
  logDir: string;
}

export interface LocalProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
}

export interface LocalEngine {
  processes: LocalProcess[];
  /** Rejects when a process exits before `stop()`, naming it and the end of its log. Never resolves. */
  died: Promise<never>;
  /** SIGTERM to every process (workers drain their parts), SIGKILL to any still running after `timeoutMs`. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts the orchestrator and every fleet's workers. */
export function startLocalEngine(options: LocalEngineOptions): LocalEngine {
  const cli = distPath('manager/cli/main.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  fs.mkdirSync(options.logDir, { recursive: true });
  let stopping = false;
  const start = (name: string, args: string[]): LocalProcess => {
    const logFile = path.join(options.logDir, `demo-${name}.log`);
    const log = fs.openSync(logFile, 'w');
    try {
      return { name, logFile, child: spawn(process.execPath, [cli, ...args], { stdio: ['ignore', log, log] }) };
    } finally {
      fs.closeSync(log);
    }
  };
  const processes = [
    start('orchestrator', ['orchestrator']),
    ...options.fleets.flatMap((f) =>
      Array.from({ length: f.workers }, (_, i) =>
        start(`${f.fleet && f.fleet !== 'default' ? `${f.fleet}-` : ''}fleet-worker-${i + 1}`, [
          'fleet-worker',
          ...(f.fleet ? ['--fleet', f.fleet] : []),
          ...(f.tasksModule ? ['--tasks', f.tasksModule] : []),
          ...(f.execPolicy ? ['--exec-policy', f.execPolicy] : []),
          '--concurrency',
          String(f.concurrency),
          '--grace-ms',
          '5000',
        ]),
      ),
    ),
  ];
  const died = new Promise<never>((_, reject) => {
    for (const p of processes) {
      p.child.once('exit', (code, signal) => {
        if (!stopping) reject(new Error(`${p.name} (pid ${p.child.pid}) exited with ${signal ?? `code ${code}`}; the end of ${p.logFile}:\n${tail(p.logFile, 15)}`));
      });
    }
  });
  died.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  let stopped: Promise<void> | undefined;
  return {
    processes,
    died,
    stop(timeoutMs = 15_000) {
      stopping = true;
      stopped ??= Promise.all(processes.map((p) => stopProcess(p.child, timeoutMs))).then(() => undefined);
      return stopped;
    },
  };
}

async function stopProcess(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The last `n` lines of a file. */
function tail(file: string, n: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
