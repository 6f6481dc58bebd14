import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { aptInstall, canAptInstall, which } from './run-command';
import type { ServiceReport, StackContext } from './services';

/** Programs the stack needs from one Debian package, and what needs them. */
export interface DebianPrograms {
  /** The service name in `dev up`'s report, e.g. `ffmpeg`. */
  service: string;
  /** The Debian package that provides every program. */
  package: string;
  /** The programs, the first being the one the report names. */
  programs: readonly [string, ...string[]];
}

/** ffmpeg and ffprobe, which the media example runs (examples/media). */
export const FFMPEG: DebianPrograms = { service: 'ffmpeg', package: 'ffmpeg', programs: ['ffmpeg', 'ffprobe'] };
/** The headless browser the console's browser tests and the screenshot script drive (through playwright-core). */
export const CHROMIUM: DebianPrograms = { service: 'chromium', package: 'chromium', programs: ['chromium'] };
/** Redis, for the benchmark's BullMQ peer (which starts its own server on 127.0.0.1) and its test. */
export const REDIS: DebianPrograms = { service: 'redis', package: 'redis-server', programs: ['redis-server'] };

/**
 * Makes the programs available: nothing to do when all are on the PATH; otherwise installs their
 * Debian package with apt-get (as root), like Postgres.
 */
export async function ensureDebianPrograms(ctx: StackContext, want: DebianPrograms): Promise<ServiceReport> {
  const logFile = logFileOf(ctx.layout, `${want.service}-install`);
  const base = { service: want.service, managed: false };
  const missing = () => want.programs.filter((p) => !which(p));
  const others = () => want.programs.slice(1).map((p) => `${p} ${which(p)}`).join(', ');
  const found = (note?: string) => ({ ...base, endpoint: which(want.programs[0])!, ...(note || others() ? { note: [note, others()].filter(Boolean).join('; ') } : {}) });
  if (missing().length === 0) return { ...found(), state: 'exists' };
  const absent = missing().join(' and ');
  const fail = (problem: string, hint: string, cause?: unknown) => new DevStackError(want.service, problem, hint, logFile, { cause });
  if (!canAptInstall()) {
    throw fail(`${absent} not on the PATH`, `Install Debian's ${want.package} package (apt-get install ${want.package}), or run \`batchgrid dev up\` as root so it can.`);
  }
  ctx.progress(`installing ${want.package} with apt-get (${absent} not on the PATH)`);
  try {
    await aptInstall([want.package], logFile);
  } catch (err) {
    throw fail(`apt-get install ${want.package} failed`, `Install Debian's ${want.package} package by hand and retry.`, err);
  }
  if (missing().length) throw fail(`${missing().join(' and ')} still not on the PATH after installing ${want.package}`, `Check the PATH (${process.env.PATH ?? ''}) and the package.`);
  return { ...found(`installed ${want.package} with apt-get`), state: 'created' };
}
