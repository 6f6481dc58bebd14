import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
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

/** A port nothing listens on right now (the OS's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs `batchgrid serve` (the API and the web console) wired to a test engine, and resolves once its
 * health probe answers; `stop()` sends SIGTERM and waits for the exit.
 */
export async function serveBatchgrid(engine: TestEngine, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawnBatchgrid(engine, ['serve', '--port', String(port)], { BATCHGRID_BUCKET: engine.bucket, LOG_LEVEL: 'warn', ...env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`batchgrid serve exited (${child.exitCode}) before answering; see its log under .batchgrid/logs`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('batchgrid serve did not answer /healthz within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = exited(child);
        child.kill('SIGTERM');
        await done;
      }
    },
  };
}
