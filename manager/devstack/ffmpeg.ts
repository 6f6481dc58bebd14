import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { aptInstall, canAptInstall, which } from './run-command';
import type { ServiceReport, StackContext } from './services';

/** The Debian package that provides both programs the media example runs (examples/media). */
export const FFMPEG_PACKAGE = 'ffmpeg';
const PROGRAMS = ['ffmpeg', 'ffprobe'] as const;

/**
 * Makes `ffmpeg` and `ffprobe` available for the media example: nothing to do when both are on
 * the PATH; otherwise installs Debian's ffmpeg package with apt-get (as root), like Postgres.
 */
export async function ensureFfmpeg(ctx: StackContext): Promise<ServiceReport> {
  const logFile = logFileOf(ctx.layout, 'ffmpeg-install');
  const base = { service: 'ffmpeg', managed: false };
  const missing = () => PROGRAMS.filter((p) => !which(p));
  const found = () => ({ ...base, endpoint: which('ffmpeg')!, note: `ffprobe ${which('ffprobe')}` });
  if (missing().length === 0) return { ...found(), state: 'exists' };
  const absent = missing().join(' and ');
  const fail = (problem: string, hint: string, cause?: unknown) => new DevStackError('ffmpeg', problem, hint, logFile, { cause });
  if (!canAptInstall()) {
    throw fail(`${absent} not on the PATH`, `Install Debian's ${FFMPEG_PACKAGE} package (apt-get install ${FFMPEG_PACKAGE}), or run \`batchgrid dev up\` as root so it can.`);
  }
  ctx.progress(`installing ${FFMPEG_PACKAGE} with apt-get (${absent} not on the PATH)`);
  try {
    await aptInstall([FFMPEG_PACKAGE], logFile);
  } catch (err) {
    throw fail(`apt-get install ${FFMPEG_PACKAGE} failed`, `Install Debian's ${FFMPEG_PACKAGE} package by hand and retry.`, err);
  }
  if (missing().length) throw fail(`${missing().join(' and ')} still not on the PATH after installing ${FFMPEG_PACKAGE}`, `Check the PATH (${process.env.PATH ?? ''}) and the package.`);
  return { ...found(), state: 'created', note: `installed ${FFMPEG_PACKAGE} with apt-get; ffprobe ${which('ffprobe')}` };
}
