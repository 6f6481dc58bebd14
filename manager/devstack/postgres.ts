import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../../common/config';
import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { aptInstall, canAptInstall, capture, CommandFailedError, runLogged, which } from './run-command';
import type { ServiceReport, StackContext } from './services';
import { pollUntil } from './wait';

/** The parts of DATABASE_URL that `dev up` needs to provision a local database. */
export interface DatabaseTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** DATABASE_URL without the password, for tables and errors. */
  display: string;
}

export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  const url = new URL(databaseUrl);
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!user || !database) throw new Error(`DATABASE_URL must name a user and a database (postgres://user:password@host:port/db), got ${url.protocol}//${url.host}${url.pathname}`);
  const port = url.port ? Number(url.port) : 5432;
  return { host: url.hostname, port, user, password: decodeURIComponent(url.password), database, display: `postgres://${user}@${url.hostname}:${port}/${database}` };
}

/** True when DATABASE_URL accepts a connection and a query. */
export async function postgresAnswers(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which Debian cluster (`pg_ctlcluster VERSION NAME`) we started, so `down` stops only that. */
const startedMarker = (ctx: StackContext) => path.join(ctx.layout.run, 'postgres.started');

interface Cluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
}

async function clusters(): Promise<Cluster[]> {
  const out = await capture('pg_lsclusters', ['-h']);
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 4)
    .map(([version, name, port, status]) => ({ version, name, port: Number(port), online: status.startsWith('online') }));
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** psql as the postgres superuser over the local socket (peer authentication). */
const asSuperuser = (port: number, sql: string) => capture('runuser', ['-u', 'postgres', '--', 'psql', '-p', String(port), '-X', '-v', 'ON_ERROR_STOP=1', '-Atc', sql]);

async function provision(target: DatabaseTarget, ctx: StackContext): Promise<void> {
  const roleExists = (await asSuperuser(target.port, `select 1 from pg_roles where rolname = ${literal(target.user)}`)).trim() === '1';
  if (!roleExists) {
    ctx.progress(`postgres: creating role ${target.user}`);
    await asSuperuser(target.port, `create role ${ident(target.user)} login createdb password ${literal(target.password)}`);
  }
  const dbExists = (await asSuperuser(target.port, `select 1 from pg_database where datname = ${literal(target.database)}`)).trim() === '1';
  if (!dbExists) {
    ctx.progress(`postgres: creating database ${target.database} owned by ${target.user}`);
    await asSuperuser(target.port, `create database ${ident(target.database)} owner ${ident(target.user)}`);
  }
}

/**
 * Makes DATABASE_URL answer: reuses whatever answers; otherwise installs Debian's postgresql if
 * needed, starts the cluster on the URL's port (remembering that we did), and creates the role
 * and database the URL names.
 */
export async function ensurePostgres(cfg: Config, ctx: StackContext): Promise<ServiceReport> {
  const target = parseDatabaseUrl(cfg.DATABASE_URL);
  const logFile = logFileOf(ctx.layout, 'postgres-install');
  const base = { service: 'postgres', endpoint: target.display };
  const ours = fs.existsSync(startedMarker(ctx));
  if (await postgresAnswers(cfg.DATABASE_URL)) return { ...base, state: ours ? 'running' : 'external', managed: ours };
  const fail = (problem: string, hint: string, cause?: unknown) => new DevStackError('postgres', problem, hint, logFile, { cause });
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(target.host)) {
    throw fail(`${target.display} does not answer and is not local`, 'Start that server, or point DATABASE_URL at 127.0.0.1.');
  }
  if (process.getuid?.() !== 0) {
    throw fail(`${target.display} does not answer`, 'Start Postgres and create the role and database DATABASE_URL names, or run `batchgrid dev up` as root so it can.');
  }
  if (!which('pg_lsclusters')) {
    if (!canAptInstall()) throw fail('Postgres is not installed', 'Install postgresql and retry.');
    ctx.progress('installing postgresql with apt-get');
    await aptInstall(['postgresql'], logFile);
  }
  const cluster = (await clusters()).find((c) => c.port === target.port);
  if (!cluster) {
    throw fail(`no Debian Postgres cluster uses port ${target.port}`, `Create one (pg_createcluster <version> main --port ${target.port}) or change DATABASE_URL's port.`);
  }
  let started = false;
  if (!cluster.online) {
    ctx.progress(`starting Postgres cluster ${cluster.version}/${cluster.name} on port ${cluster.port}`);
    try {
      await runLogged('pg_ctlcluster', [cluster.version, cluster.name, 'start'], { logFile });
    } catch (err) {
      throw fail(`pg_ctlcluster ${cluster.version} ${cluster.name} start failed`, `See /var/log/postgresql/postgresql-${cluster.version}-${cluster.name}.log.`, err);
    }
    fs.writeFileSync(startedMarker(ctx), `${cluster.version} ${cluster.name}\n`);
    started = true;
  }
  const superuserReady = () => asSuperuser(target.port, 'select 1').then(() => true, () => false);
  if (!(await pollUntil(superuserReady, { timeoutMs: 30_000, intervalMs: 200 }))) {
    throw fail(`cluster ${cluster.version}/${cluster.name} does not accept connections`, `See /var/log/postgresql/postgresql-${cluster.version}-${cluster.name}.log.`);
  }
  try {
    await provision(target, ctx);
  } catch (err) {
    throw fail(`could not create role/database: ${err instanceof CommandFailedError ? err.outputTail : String(err)}`, 'Create them by hand with psql.', err);
  }
  if (!(await pollUntil(() => postgresAnswers(cfg.DATABASE_URL), { timeoutMs: 10_000, intervalMs: 200 }))) {
    throw fail(`${target.display} still refuses the connection`, `If role ${target.user} already existed with another password: ALTER ROLE ${target.user} PASSWORD '…' as in DATABASE_URL.`);
  }
  const managed = started || ours;
  return { ...base, state: started ? 'started' : managed ? 'running' : 'external', managed };
}

/** Stops the cluster only if `dev up` started it. */
export async function stopPostgres(cfg: Config, ctx: StackContext): Promise<ServiceReport> {
  const target = parseDatabaseUrl(cfg.DATABASE_URL);
  const base = { service: 'postgres', endpoint: target.display };
  const marker = startedMarker(ctx);
  if (!fs.existsSync(marker)) {
    const up = await postgresAnswers(cfg.DATABASE_URL);
    return { ...base, state: up ? 'external' : 'down', managed: false, note: up ? 'not started by batchgrid; left running' : undefined };
  }
  const [version, name] = fs.readFileSync(marker, 'utf8').trim().split(/\s+/);
  await runLogged('pg_ctlcluster', [version, name, 'stop'], { logFile: logFileOf(ctx.layout, 'postgres-install') }).catch((err: unknown) => {
    throw new DevStackError('postgres', `pg_ctlcluster ${version} ${name} stop failed`, 'Stop it by hand.', logFileOf(ctx.layout, 'postgres-install'), { cause: err });
  });
  fs.rmSync(marker, { force: true });
  return { ...base, state: 'stopped', managed: true };
}

export async function postgresStatus(cfg: Config, ctx: StackContext): Promise<ServiceReport> {
  const target = parseDatabaseUrl(cfg.DATABASE_URL);
  const managed = fs.existsSync(startedMarker(ctx));
  const up = await postgresAnswers(cfg.DATABASE_URL);
  return { service: 'postgres', endpoint: target.display, state: up ? 'up' : 'down', managed, note: up && !managed ? 'not started by batchgrid' : undefined };
}
