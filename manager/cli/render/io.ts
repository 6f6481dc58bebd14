import { BatchGridClient } from '../../client';
import { describeError } from './errors';

/** Where a command writes, and what it knows of the terminal; tests pass buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: live redraws instead of plain lines. */
  readonly isTTY: boolean;
  /** Terminal width in characters. */
  readonly columns: number;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
  get columns() {
    return process.stdout.columns || 100;
  },
};

/** Prints a value as the only output of a `--json` command. */
export const printJson = (io: CliIo, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

/** How commands get a client; tests pass one bound to their engine. */
export type ClientFactory = () => Promise<BatchGridClient>;

let factory: ClientFactory = () => BatchGridClient.connect();

/** Replaces how commands connect (tests). Returns the previous factory. */
export function setClientFactory(next: ClientFactory): ClientFactory {
  const previous = factory;
  factory = next;
  return previous;
}

/** What a command body gets: a client, connected on first use (so a bad argument is reported before any service is needed). */
export interface CommandContext {
  client(): Promise<BatchGridClient>;
}

/** The one way the CLI reports an error: `batchgrid: <describeError's text>` on stderr. */
export function reportError(io: CliIo, err: unknown, context: { file?: string } = {}): void {
  io.err(`batchgrid: ${describeError(err, context)}\n`);
}

/**
 * Runs a command body, closing the client if it connected one. Returns the exit code: the body's
 * (default 0), or 1 after reporting the error (reportError).
 */
export async function runCommand(io: CliIo, body: (ctx: CommandContext) => Promise<number | void>, context: { file?: string } = {}): Promise<number> {
  let connecting: Promise<BatchGridClient> | undefined;
  try {
    return (await body({ client: () => (connecting ??= factory()) })) ?? 0;
  } catch (err) {
    reportError(io, err, context);
    return 1;
  } finally {
    if (connecting) await connecting.then((c) => c.close(), () => undefined);
  }
}

/** A commander action for a body that needs no client: `runCommand` on the process's terminal, its result the exit code. */
export async function runAction(body: () => Promise<number | void>, context: { file?: string } = {}): Promise<void> {
  process.exitCode = await runCommand(processIo, () => body(), context);
}

/** `runCommand` for bodies that need the client from the start. */
export function runWithClient(io: CliIo, body: (client: BatchGridClient) => Promise<number | void>, context: { file?: string } = {}): Promise<number> {
  return runCommand(io, async (ctx) => body(await ctx.client()), context);
}
