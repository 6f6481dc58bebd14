import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../../common/config';
import { distPath } from '../../common/paths';
import type { TestEngine } from './engine';

/**
 * Runs the real `batchgrid` binary (compiled, from dist/) as a child process wired to a test
 * engine: same schema, queue prefix and task queue. For tests that kill processes.
 */
export function spawnBatchgrid(engine: TestEngine, args: string[], env: Record<string, string> = {}): ChildProcess {
  const cli = distPath('manager/cli/main.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const url = new URL(config().DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${engine.db.schema}`);
  const logDir = path.join(config().BATCHGRID_HOME, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const log = fs.openSync(path.join(logDir, `test-${engine.id}-${args[0]}-${Date.now()}.log`), 'a');
  return spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, DATABASE_URL: url.toString(), BATCHGRID_QUEUE_PREFIX: engine.queuePrefix, BATCHGRID_TASK_QUEUE: engine.taskQueue, ...env },
    stdio: ['ignore', log, log],
  });
}

/** Resolves when the process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
