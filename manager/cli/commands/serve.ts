import { InvalidArgumentError, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { config } from '../../../common/config';
import { createLogger } from '../../../common/logger';
import { buildApp, MIN_TOKEN_CHARS } from '../../api';
import { processIo, runCommand, type CliIo } from '../render/io';

export interface ServeCommandOptions {
  /** Default: BATCHGRID_API_PORT (8080); 0 picks a free port. */
  port?: number;
  /** Default: 127.0.0.1. */
  host?: string;
  /** Generate a token for this run when BATCHGRID_API_TOKEN is not set. */
  devToken?: boolean;
}

/** The token the API requires: BATCHGRID_API_TOKEN, or with `devToken` one made up for this run and printed; undefined when there is none. */
export function resolveToken(configured: string | undefined, devToken: boolean | undefined, io: CliIo): string | undefined {
  if (configured !== undefined) return configured;
  if (!devToken) return undefined;
  const token = randomBytes(24).toString('base64url');
  io.err(`batchgrid: BATCHGRID_API_TOKEN is not set; this run's token (pass it as "Authorization: Bearer <token>"):\n${token}\n`);
  return token;
}

/**
 * `batchgrid serve`: the HTTP API until SIGINT/SIGTERM. Prints `listening on http://HOST:PORT`
 * once it accepts requests (with `--port 0`, the port picked).
 */
export async function serveCommand(opts: ServeCommandOptions, io: CliIo = processIo, stop?: Promise<void>): Promise<number> {
  return runCommand(io, async (ctx) => {
    const cfg = config();
    const token = resolveToken(cfg.BATCHGRID_API_TOKEN, opts.devToken, io);
    if (token === undefined) {
      throw new Error(
        `BATCHGRID_API_TOKEN is not set, and the API never runs without a token. Set it to a secret of at least ${MIN_TOKEN_CHARS} characters ` +
          '(e.g. `export BATCHGRID_API_TOKEN=$(openssl rand -hex 32)`), or pass --dev-token to generate one for this run.',
      );
    }
    const client = await ctx.client();
    const temporalUi = { url: cfg.TEMPORAL_UI_URL ?? `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`, namespace: cfg.TEMPORAL_NAMESPACE };
    const app = buildApp({ client, token, logger: createLogger('api'), temporalUi });
    const stopped =
      stop ??
      new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    try {
      const address = await app.listen({ port: opts.port ?? cfg.BATCHGRID_API_PORT, host: opts.host ?? '127.0.0.1' });
      io.out(`batchgrid API listening on ${address} (web console: ${address}/)\n`);
      await stopped;
    } finally {
      // Stops accepting, lets requests in flight finish, then the client closes (runCommand).
      await app.close();
    }
  });
}

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number between 0 and 65535 (0: any free port).');
  return n;
};

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (bearer token from BATCHGRID_API_TOKEN; see docs/api.md)')
    .option('--port <n>', 'port to listen on; 0 picks a free one (default: BATCHGRID_API_PORT, 8080)', port)
    .option('--host <address>', 'address to listen on; 0.0.0.0 for every interface (default: 127.0.0.1)')
    .option('--dev-token', 'when BATCHGRID_API_TOKEN is not set, generate a token for this run and print it on stderr (local development)')
    .action(async (opts: ServeCommandOptions) => {
      process.exitCode = await serveCommand(opts);
    });
}
