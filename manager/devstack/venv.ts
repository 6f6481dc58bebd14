import fs from 'node:fs';
import path from 'node:path';
import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { aptInstall, canAptInstall, CommandFailedError, runLogged, which } from './run-command';
import type { StackContext } from './services';

/** Path of an executable inside the project venv. */
export const venvBin = (ctx: StackContext, name: string): string => path.join(ctx.layout.venv, 'bin', name);

/** Creates `$BATCHGRID_HOME/venv` once; installs python3-venv with apt-get when the interpreter cannot make one. */
export function ensureVenv(ctx: StackContext): Promise<void> {
  return ctx.once('venv', async () => {
    if (fs.existsSync(venvBin(ctx, 'pip'))) return;
    const logFile = logFileOf(ctx.layout, 'venv-install');
    ctx.progress(`creating Python venv ${ctx.layout.venv}`);
    const create = async () => {
      const python = which('python3');
      if (!python) throw new CommandFailedError('python3 -m venv', null, 'python3 is not on PATH');
      fs.rmSync(ctx.layout.venv, { recursive: true, force: true });
      await runLogged(python, ['-m', 'venv', ctx.layout.venv], { logFile });
    };
    try {
      await create();
    } catch (err) {
      if (!canAptInstall()) {
        throw new DevStackError('venv', `cannot create ${ctx.layout.venv}`, 'Install Python 3 with its venv module (Debian: apt-get install python3-venv) and retry.', logFile, { cause: err });
      }
      ctx.progress('installing python3 and python3-venv with apt-get');
      await aptInstall(['python3', 'python3-venv'], logFile);
      await create();
    }
  });
}

/**
 * pip-installs a requirement into the venv unless the same requirement is already installed
 * (a stamp file remembers it). Installs are serialised: pip must not run twice at once in one venv.
 */
export async function pipInstall(ctx: StackContext, requirement: string, logName: string): Promise<void> {
  await ensureVenv(ctx);
  const stamp = path.join(ctx.layout.venv, `.batchgrid-${logName}`);
  if (readText(stamp) === requirement) return;
  await serialise(ctx, async () => {
    ctx.progress(`installing ${requirement} into ${ctx.layout.venv}`);
    await runLogged(venvBin(ctx, 'pip'), ['install', '--disable-pip-version-check', '--no-input', requirement], {
      logFile: logFileOf(ctx.layout, `${logName}-install`),
    });
    fs.writeFileSync(stamp, requirement);
  });
}

const chains = new WeakMap<StackContext, Promise<unknown>>();
function serialise(ctx: StackContext, fn: () => Promise<void>): Promise<void> {
  const next = (chains.get(ctx) ?? Promise.resolve()).catch(() => undefined).then(fn);
  chains.set(ctx, next);
  return next;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
