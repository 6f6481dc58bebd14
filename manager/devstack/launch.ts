import { DevStackError } from './errors';
import { logFileOf, pidFileOf } from './layout';
import { isOurProcess, readPidFile, removeFile, spawnDetached, stopProcessGroup } from './process';
import { tailOf } from './run-command';
import type { ManagedService, ServiceReport, StackContext } from './services';
import { pollUntil, seconds, tcpAnswers } from './wait';

function report(svc: ManagedService, ctx: StackContext, state: ServiceReport['state'], pid?: number): ServiceReport {
  const managed = pid !== undefined;
  return { service: svc.name, state, endpoint: svc.endpoint, note: svc.note, pid, managed, logFile: managed ? logFileOf(ctx.layout, svc.name) : undefined };
}

/** Our pid for the service from its pid file, if that process is still ours; removes a stale pid file. */
function ourPid(svc: ManagedService, ctx: StackContext): number | undefined {
  const pidFile = pidFileOf(ctx.layout, svc.name);
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  if (isOurProcess(pid, svc.processMarker)) return pid;
  removeFile(pidFile);
  return undefined;
}

async function waitReady(svc: ManagedService, ctx: StackContext, pid: number, exited: () => string | undefined): Promise<void> {
  const logFile = logFileOf(ctx.layout, svc.name);
  const failure = (problem: string) => new DevStackError(svc.name, `${problem}; last lines of its log:\n${tailOf(logFile)}\n`, svc.hint, logFile);
  const ready = await pollUntil(svc.probe, {
    timeoutMs: svc.startTimeoutMs,
    intervalMs: 150,
    abort: () => {
      const why = exited() ?? (isOurProcess(pid, svc.processMarker) ? undefined : 'exited');
      return why ? failure(`process ${pid} ${why} before answering on port ${svc.port}`) : undefined;
    },
  });
  if (!ready) throw failure(`did not answer on ${svc.endpoint} within ${seconds(svc.startTimeoutMs)}`);
}

/**
 * Makes the service answer: reuses our running process, or anything else answering on its port
 * (and says so), or installs and starts it detached and waits until it answers.
 */
export async function ensureServiceRunning(svc: ManagedService, ctx: StackContext): Promise<ServiceReport> {
  const pid = ourPid(svc, ctx);
  if (pid !== undefined) {
    if (!(await svc.probe())) await waitReady(svc, ctx, pid, () => undefined); // still starting
    await svc.afterReady?.(ctx);
    return report(svc, ctx, 'running', pid);
  }
  if (await svc.probe()) {
    ctx.progress(`${svc.name}: something we did not start already answers on ${svc.endpoint}; reusing it`);
    await svc.afterReady?.(ctx);
    return report(svc, ctx, 'external');
  }
  if (await tcpAnswers('127.0.0.1', svc.port)) {
    throw new DevStackError(svc.name, `port ${svc.port} is taken by a process that does not speak ${svc.name}'s protocol`, svc.hint);
  }
  try {
    await svc.install(ctx);
  } catch (err) {
    if (err instanceof DevStackError) throw err;
    throw new DevStackError(svc.name, `install failed: ${(err as Error).message}\n`, 'Fix the cause shown above (package registry reachable? disk space?) and run `batchgrid dev up` again.', logFileOf(ctx.layout, `${svc.name}-install`), { cause: err });
  }
  const started = Date.now();
  ctx.progress(`starting ${svc.name} on ${svc.endpoint}`);
  const child = spawnDetached(await svc.command(ctx), logFileOf(ctx.layout, svc.name), pidFileOf(ctx.layout, svc.name));
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exited with ${code ?? signal}`));
  child.once('error', (err) => (exit = `could not start (${err.message})`));
  if (child.pid === undefined) await new Promise((resolve) => setImmediate(resolve)); // let 'error' arrive
  if (child.pid === undefined) {
    throw new DevStackError(svc.name, `could not start: ${exit ?? 'no pid'}`, svc.hint, logFileOf(ctx.layout, svc.name));
  }
  try {
    await waitReady(svc, ctx, child.pid, () => exit);
  } catch (err) {
    await stopProcessGroup(child.pid, 2_000);
    removeFile(pidFileOf(ctx.layout, svc.name));
    throw err;
  }
  ctx.progress(`${svc.name} ready in ${seconds(Date.now() - started)}`);
  await svc.afterReady?.(ctx);
  return report(svc, ctx, 'started', child.pid);
}

/** Stops the service if we run it (SIGTERM to its group, SIGKILL after a timeout); leaves others' alone. */
export async function stopService(svc: ManagedService, ctx: StackContext): Promise<ServiceReport> {
  const pid = ourPid(svc, ctx);
  if (pid === undefined) {
    const answering = await svc.probe();
    return { ...report(svc, ctx, answering ? 'external' : 'down'), note: answering ? 'not started by batchgrid; left running' : undefined };
  }
  if (!(await stopProcessGroup(pid))) {
    throw new DevStackError(svc.name, `process ${pid} survived SIGKILL`, `Stop it by hand (kill -9 ${pid}).`, logFileOf(ctx.layout, svc.name));
  }
  removeFile(pidFileOf(ctx.layout, svc.name));
  return report(svc, ctx, 'stopped', pid);
}

/** Whether the service answers, and whether it is ours. */
export async function serviceStatus(svc: ManagedService, ctx: StackContext): Promise<ServiceReport> {
  const pid = ourPid(svc, ctx);
  const answering = await svc.probe();
  if (pid !== undefined) return report(svc, ctx, answering ? 'up' : 'unhealthy', pid);
  return { ...report(svc, ctx, answering ? 'up' : 'down'), note: answering ? `${svc.note}; not started by batchgrid` : svc.note };
}
