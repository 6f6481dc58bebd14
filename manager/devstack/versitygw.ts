import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import { DevStackError } from './errors';
import { logFileOf, type Layout } from './layout';
import { aptInstall, canAptInstall, capture, runLogged, which } from './run-command';
import type { ManagedService, StackContext } from './services';
import { GO_MIN_MINOR, VERSITYGW_GO_PACKAGE, VERSITYGW_GO_TOOLCHAIN } from './versions';
import { httpAnswers } from './wait';

const binaryOf = (layout: Layout) => path.join(layout.goBin, 'versitygw');
/** Remembers which package built the binary, so a version bump rebuilds it. */
const stampOf = (layout: Layout) => path.join(layout.goBin, '.versitygw-package');

/** `go1.26.8` → 26; undefined when the version does not parse (a devel build: assume new enough). */
export function goMinor(version: string): number | undefined {
  const m = /^go1\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;

/**
 * A newer Go toolchain, fetched by an older `go` as the module golang.org/toolchain (what
 * GOTOOLCHAIN=auto does from Go 1.21 on): Debian 12's golang-go is 1.19. Module zips carry no
 * file modes, so the binaries are made executable here.
 */
export async function bootstrapGo(go: string, logFile: string): Promise<string> {
  const module = `golang.org/toolchain@v0.0.1-go${VERSITYGW_GO_TOOLCHAIN}.linux-${goArch()}`;
  await runLogged(go, ['version'], { logFile });
  const out = await capture(go, ['mod', 'download', '-json', module], { ...process.env, GOFLAGS: '-modcacherw', GO111MODULE: 'on' });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new DevStackError('s3', `go mod download ${module} gave no folder`, `Install Go 1.${GO_MIN_MINOR}+ and retry.`, logFile);
  for (const sub of ['bin', path.join('pkg', 'tool', `linux_${goArch()}`)]) {
    const folder = path.join(dir, sub);
    for (const file of fs.existsSync(folder) ? fs.readdirSync(folder) : []) fs.chmodSync(path.join(folder, file), 0o755);
  }
  return path.join(dir, 'bin', 'go');
}

/** A Go that can build versitygw: the one on PATH (or Debian's golang-go installed with apt-get), or a newer toolchain it fetches. */
async function ensureGo(logFile: string, ctx: StackContext): Promise<string> {
  let go = which('go');
  if (!go) {
    if (!canAptInstall()) throw new DevStackError('s3', 'Go is needed to build the local S3 server (versitygw)', `Install Go 1.${GO_MIN_MINOR}+ and retry, or use BATCHGRID_S3_BACKEND=moto.`, logFile);
    ctx.progress('installing Go (golang-go) with apt-get');
    await aptInstall(['golang-go'], logFile);
    go = which('go') ?? '/usr/bin/go';
  }
  const version = await capture(go, ['env', 'GOVERSION']);
  const minor = goMinor(version);
  if (minor !== undefined && minor < GO_MIN_MINOR) {
    ctx.progress(`${version.trim()} cannot build versitygw; fetching Go ${VERSITYGW_GO_TOOLCHAIN} through the module proxy`);
    return bootstrapGo(go, logFile);
  }
  return go;
}

/** Builds versitygw with `go install` into `$BATCHGRID_HOME/go/bin` unless that version is already there. */
async function installVersitygw(ctx: StackContext): Promise<void> {
  const bin = binaryOf(ctx.layout);
  const stamp = stampOf(ctx.layout);
  if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === VERSITYGW_GO_PACKAGE) return;
  const logFile = logFileOf(ctx.layout, 's3-install');
  const go = await ensureGo(logFile, ctx);
  ctx.progress(`building the S3 server with go install ${VERSITYGW_GO_PACKAGE} (a few minutes the first time)`);
  // GOTOOLCHAIN=auto: an older Go fetches the toolchain versitygw's go.mod names through the module proxy.
  await runLogged(go, ['install', VERSITYGW_GO_PACKAGE], { logFile, env: { ...process.env, GOBIN: ctx.layout.goBin, CGO_ENABLED: '0', GOTOOLCHAIN: 'auto' } });
  fs.writeFileSync(stamp, VERSITYGW_GO_PACKAGE);
}

/**
 * The local S3 server: versitygw's posix backend, one folder per bucket under
 * `$BATCHGRID_HOME/s3`, so objects survive a restart. Its root keys are the ones batchgrid's
 * clients sign with: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when set, else `test`/`test`
 * (common/aws.ts), since unlike moto it checks signatures.
 */
export function versitygwService(cfg: Config): ManagedService {
  const port = cfg.BATCHGRID_S3_PORT;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    name: 's3',
    port,
    endpoint,
    note: 'S3 (versitygw, on disk)',
    processMarker: 'versitygw',
    startTimeoutMs: 30_000,
    hint: 'Free the port, or choose another with BATCHGRID_S3_PORT (or use BATCHGRID_S3_BACKEND=moto).',
    install: (ctx) => ctx.once('s3-install', () => installVersitygw(ctx)),
    async command(ctx) {
      const access = process.env.AWS_ACCESS_KEY_ID ?? 'test';
      const secret = process.env.AWS_ACCESS_KEY_ID ? (process.env.AWS_SECRET_ACCESS_KEY ?? '') : 'test';
      return {
        file: binaryOf(ctx.layout),
        args: ['--port', `127.0.0.1:${port}`, '--region', cfg.AWS_REGION, '--quiet', 'posix', '--sidecar', ctx.layout.s3Meta, ctx.layout.s3Data],
        // Keys through the environment, not the command line that `ps` shows.
        env: { ...process.env, ROOT_ACCESS_KEY: access, ROOT_SECRET_KEY: secret },
      };
    },
    // Any HTTP answer (an anonymous request gets 403) means it serves.
    probe: () => httpAnswers(`${endpoint}/`),
  };
}
