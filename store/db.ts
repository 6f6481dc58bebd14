import { Client, Pool, type PoolClient, type PoolConfig } from 'pg';
import { countCall } from '../common/call-counts';
import { config } from '../common/config';
import { ServiceUnavailableError } from '../common/errors';

/** Anything a query function can run on: the pool, or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

export interface PoolOptions {
  /** Schema every connection uses as its search_path; created on first connect if missing. Default: the server's search_path. */
  schema?: string;
  /** Maximum connections. Default: 10. */
  max?: number;
  /** How long to wait for a connection before failing, in ms. Default: 10000. */
  connectionTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** How long a session may sit idle inside an open transaction before Postgres ends it, in ms. */
export const IDLE_IN_TRANSACTION_MS = 10_000;

/** A connection pool on `url`; connection failures surface as ServiceUnavailableError('Postgres', url without password). */
export function createPool(url: string = config().DATABASE_URL, options: PoolOptions = {}): Pool {
  const { schema, max = 10, connectionTimeoutMs = 10_000 } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`schema must be a lower-case SQL identifier (letters, digits, _), got "${schema}".`);
  }
  // A process frozen inside a transaction (SIGSTOP, a paused VM) would hold its locks for as long
  // as it stays frozen, and the stage attempt that replaced it would wait on them: Postgres ends
  // such a transaction after IDLE_IN_TRANSACTION_MS. Nothing in the engine waits inside one.
  // Options in the URL (`?options=-c search_path=…`, common in a DATABASE_URL) are kept after
  // this default, so they may change it: node-postgres would otherwise let them replace
  // `options` whole, dropping the timeout without a word. An explicit schema comes last.
  const { connectionString, urlOptions } = splitOptions(url);
  const settings = [`-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`, ...(urlOptions ? [urlOptions] : [])];
  if (schema !== undefined) settings.push(`-c search_path=${schema}`);
  const pgConfig: PoolConfig = {
    connectionString,
    max,
    connectionTimeoutMillis: connectionTimeoutMs,
    options: settings.join(' '),
    // pg_stat_activity names the process that holds each session.
    application_name: `batchgrid pid ${process.pid}`,
    Client: CountingClient,
  };
  if (schema !== undefined) {
    let created: Promise<void> | undefined;
    // pg-pool awaits onConnect before handing the client out, so the schema exists before the first query.
    pgConfig.onConnect = (client) => {
      created ??= ensureSchema(client, schema).catch((err: unknown) => {
        created = undefined;
        throw err;
      });
      return created as unknown as void;
    };
  }
  return new StorePool(pgConfig, redactUrl(url));
}

/** The URL without its `options` parameter, and that parameter (Postgres' startup options); a URL that does not parse is left whole. */
function splitOptions(url: string): { connectionString: string; urlOptions: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, urlOptions: undefined };
  }
  const urlOptions = parsed.searchParams.get('options') ?? undefined;
  if (urlOptions === undefined) return { connectionString: url, urlOptions };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), urlOptions };
}

async function ensureSchema(client: { query(text: string): Promise<unknown> }, schema: string): Promise<void> {
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    // Two sessions creating the same schema at once race on the catalog's unique index: the schema exists.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void;

/** A client that counts its statements (common/call-counts: one per round trip, BEGIN and COMMIT included). */
class CountingClient extends Client {
  override query(...args: unknown[]): never {
    countCall('postgres', 'statement');
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/** A Pool whose connection failures (what `pool.query` and `pool.connect` both go through) name Postgres and the URL. */
class StorePool extends Pool {
  constructor(
    pgConfig: PoolConfig,
    readonly endpoint: string,
  ) {
    super(pgConfig);
    // An idle client that dies (server restart) is dropped by the pool; the next query reconnects or fails loudly.
    this.on('error', () => undefined);
  }

  override connect(): Promise<PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    if (callback) return super.connect((err, client, done) => callback(err && this.wrap(err), client, done));
    return super.connect().catch((err: Error) => {
      throw this.wrap(err);
    });
  }

  private wrap(err: Error): Error {
    return isConnectionError(err) ? new ServiceUnavailableError('Postgres', this.endpoint, { cause: err }) : err;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);

/** Cannot reach or log in: network errors, connection timeouts, SQLSTATE 08 (connection), 28 (auth), 3D000 (no database), 57P0x (shutting down/starting). */
function isConnectionError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return NETWORK_CODES.has(code) || /^(08|28|3D|57P0)/.test(code);
  return /Connection terminated|timeout expired/i.test(err.message);
}

/** The URL with its password removed, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, '@');
  }
}

/** Runs `fn` in a transaction on one client: COMMIT on success, ROLLBACK and rethrow on failure. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  // The server may end the session between two statements (idle_in_transaction_session_timeout
  // after a freeze, a restart): the next statement fails with it, instead of an unhandled 'error'.
  const onError = (err: unknown) => void (broken = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr; // the connection is unusable: destroy it rather than return it to the pool
    }
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken as Error | undefined);
  }
}

/** A JS value as a jsonb parameter (pg would send a JS array as a Postgres array, not JSON). */
export const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/** A Date or epoch ms as a timestamptz parameter. */
export const toDate = (value: Date | number | undefined | null): Date | null => (value === undefined || value === null ? null : new Date(value));

/**
 * SQL for the fleet a stage runs on, from the stored definition: the stage's own `fleet`, else the
 * pipeline's (definitions compiled before stages named fleets), else the job row's. `job` is an
 * alias of `jobs`, `stage` a jsonb stage of its definition.
 */
export const stageFleetSql = (job: string, stage: string) => `coalesce(${stage}->>'fleet', ${job}.definition->>'fleet', ${job}.fleet)`;
