import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../common/config';
import { packageRoot } from '../common/paths';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';

/**
 * Checks docker-compose.yml without Docker (no engine or compose plugin is needed): the structure
 * Compose needs, the references between services, the healthchecks `service_healthy` waits for,
 * and that batchgrid's services are configured with the variables common/config.ts reads.
 *
 *   node dist/scripts/check-compose.js [docker-compose.yml]     exit 0: fine, 1: problems listed
 */

/** One thing wrong, at a path like `services.api.depends_on.migrate`. */
export interface ComposeProblem {
  path: string;
  message: string;
}

export interface CheckComposeOptions {
  /** Folder of the compose file: bind mounts and build contexts are resolved from it. Default: none (not checked). */
  baseDir?: string;
  /** Variables for `${VAR}` interpolation. Default: none (defaults in `${VAR:-default}` apply). */
  env?: Record<string, string>;
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];
/** Variables batchgrid processes may get besides those of common/config.ts: the AWS SDK's and Node's own. */
const OTHER_VARIABLES = [
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_REGION', 'AWS_CA_BUNDLE',
  'NODE_ENV', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'TMPDIR',
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every problem of a compose file's text; empty when it is fine. */
export function checkCompose(text: string, options: CheckComposeOptions = {}): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });

  let doc: unknown;
  try {
    const parsed = YAML.parseDocument(text, { merge: true, uniqueKeys: true });
    if (parsed.errors.length) return parsed.errors.map((e) => ({ path: '(file)', message: `YAML: ${e.message}` }));
    doc = parsed.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return [{ path: '(file)', message: `YAML: ${(err as Error).message}` }];
  }
  if (!isObj(doc)) return [{ path: '(file)', message: 'must be a map with a services key' }];
  if ('version' in doc) add('version', 'is obsolete in the Compose Specification: remove it');
  const services = doc.services;
  if (!isObj(services) || Object.keys(services).length === 0) return [...problems, { path: 'services', message: 'must be a map of at least one service' }];
  const volumes = isObj(doc.volumes) ? doc.volumes : {};

  const names = Object.keys(services);
  const hostPorts = new Map<string, string>();
  for (const [name, raw] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) add(at, 'service names are lowercase letters, digits, ".", "_" or "-"');
    if (!isObj(raw)) {
      add(at, 'must be a map');
      continue;
    }
    const s = raw;
    if (typeof s.image !== 'string' && s.build === undefined) add(at, 'needs an image or a build');
    if (typeof s.image === 'string' && s.build === undefined && !/:[\w][\w.-]*$|@sha256:/.test(s.image.split('/').pop() ?? '')) add(`${at}.image`, `pin a version tag (got ${s.image})`);
    if (typeof s.image === 'string' && /:latest$/.test(s.image)) add(`${at}.image`, 'pin a version, not :latest');
    checkDependsOn(s.depends_on, at, names, services, add);
    checkHealthcheck(s.healthcheck, `${at}.healthcheck`, add);
    checkDeploy(s, at, add);
    for (const port of Array.isArray(s.ports) ? s.ports : s.ports === undefined ? [] : [null]) {
      const host = hostPort(port);
      if (host === undefined) add(`${at}.ports`, `cannot read port ${JSON.stringify(port)}`);
      else if (host !== null) {
        if (hostPorts.has(host)) add(`${at}.ports`, `host port ${host} is also published by ${hostPorts.get(host)}`);
        hostPorts.set(host, name);
      }
    }
    for (const v of Array.isArray(s.volumes) ? s.volumes : []) {
      const source = typeof v === 'string' ? v.split(':')[0] : isObj(v) ? String(v.source ?? '') : '';
      if (source.startsWith('.') || source.startsWith('/')) {
        if (options.baseDir && source.startsWith('.') && !fs.existsSync(path.resolve(options.baseDir, source))) add(`${at}.volumes`, `bind mount source ${source} does not exist`);
      } else if (source && !(source in volumes)) add(`${at}.volumes`, `named volume ${source} is not declared under the top-level volumes`);
    }
    if (isBatchgrid(s)) checkBatchgridEnv(s.environment, `${at}.environment`, options.env ?? {}, add);
  }
  checkCycles(services, add);
  checkSearchAttributes(text, add);
  return problems;
}

function checkDependsOn(deps: unknown, at: string, names: string[], services: Obj, add: (p: string, m: string) => void): void {
  if (deps === undefined) return;
  const entries: [string, unknown][] = Array.isArray(deps) ? deps.map((d) => [String(d), { condition: 'service_started' }]) : isObj(deps) ? Object.entries(deps) : [];
  if (!Array.isArray(deps) && !isObj(deps)) add(`${at}.depends_on`, 'must be a list or a map of service names');
  for (const [dep, spec] of entries) {
    const p = `${at}.depends_on.${dep}`;
    if (!names.includes(dep)) {
      add(p, `no service named ${dep}`);
      continue;
    }
    const condition = isObj(spec) ? spec.condition : undefined;
    if (typeof condition !== 'string' || !CONDITIONS.includes(condition)) {
      add(p, `condition must be one of ${CONDITIONS.join(', ')}`);
      continue;
    }
    const target = services[dep] as Obj;
    if (condition === 'service_healthy' && !hasHealthcheck(target)) add(p, `waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    if (condition === 'service_completed_successfully') {
      if (target.restart !== undefined && target.restart !== 'no') add(p, `waits for ${dep} to complete, but ${dep} restarts (restart: ${String(target.restart)}); one-shot services need restart: "no"`);
      if (replicas(target) !== 1) add(p, `waits for ${dep} to complete, but ${dep} has several replicas`);
    }
  }
}

function hasHealthcheck(s: Obj): boolean {
  const h = s.healthcheck;
  if (!isObj(h) || h.disable === true) return false;
  const t = h.test;
  return (typeof t === 'string' && t.length > 0) || (Array.isArray(t) && t.length > 1 && t[0] !== 'NONE');
}

function checkHealthcheck(h: unknown, at: string, add: (p: string, m: string) => void): void {
  if (h === undefined) return;
  if (!isObj(h)) return add(at, 'must be a map');
  const t = h.test;
  if (Array.isArray(t)) {
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(String(t[0]))) add(`${at}.test`, 'a list test starts with CMD, CMD-SHELL or NONE');
    if (t[0] !== 'NONE' && t.length < 2) add(`${at}.test`, 'names no command');
    if (t.some((x) => typeof x !== 'string')) add(`${at}.test`, 'every element must be a string');
  } else if (typeof t !== 'string' && h.disable !== true) add(`${at}.test`, 'is required: a list (["CMD", …]) or a shell string');
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval']) {
    if (h[key] !== undefined && !/^(\d+(\.\d+)?(us|ms|s|m|h))+$/.test(String(h[key]))) add(`${at}.${key}`, `must be a duration like 5s or 1m30s (got ${String(h[key])})`);
  }
  if (h.retries !== undefined && !(Number.isInteger(h.retries) && (h.retries as number) > 0)) add(`${at}.retries`, 'must be a positive whole number');
}

function replicas(s: Obj): number {
  const r = isObj(s.deploy) ? s.deploy.replicas : undefined;
  return typeof r === 'number' ? r : 1;
}

function checkDeploy(s: Obj, at: string, add: (p: string, m: string) => void): void {
  const r = isObj(s.deploy) ? s.deploy.replicas : undefined;
  if (r !== undefined && !(Number.isInteger(r) && (r as number) >= 0)) add(`${at}.deploy.replicas`, 'must be a whole number >= 0');
  if (replicas(s) > 1) {
    if (s.container_name !== undefined) add(`${at}.container_name`, 'cannot be set on a service with several replicas');
    if (Array.isArray(s.ports) && s.ports.some((p) => typeof hostPort(p) === 'string')) add(`${at}.ports`, 'a fixed host port cannot be published by several replicas');
  }
}

/** The host port a `ports` entry publishes: a string, null when it publishes none, undefined when unreadable. */
function hostPort(p: unknown): string | null | undefined {
  if (typeof p === 'number') return null;
  if (typeof p === 'string') {
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.some((x) => !/^[\d.-]*$/.test(x) && !/^\[?[0-9a-f:]+\]?$/i.test(x))) return undefined;
    return parts.length >= 2 ? parts[parts.length - 2] : null;
  }
  if (isObj(p)) return p.published === undefined ? null : String(p.published);
  return undefined;
}

function checkCycles(services: Obj, add: (p: string, m: string) => void): void {
  const deps = (name: string): string[] => {
    const d = (services[name] as Obj | undefined)?.depends_on;
    return Array.isArray(d) ? d.map(String) : isObj(d) ? Object.keys(d) : [];
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done' || !(name in services)) return;
    if (state.get(name) === 'visiting') {
      add(`services.${name}.depends_on`, `dependency cycle: ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const d of deps(name)) visit(d, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
}

/** A service running batchgrid's own image (built from this repository). */
function isBatchgrid(s: Obj): boolean {
  const context = typeof s.build === 'string' ? s.build : isObj(s.build) ? s.build.context : undefined;
  return context === '.' || context === './' || (typeof s.image === 'string' && /^batchgrid(:|$)/.test(s.image));
}

/** Names the zod schema of common/config.ts reads (its keys, from the source: the schema itself is private). */
export function configVariables(): string[] {
  const source = fs.readFileSync(path.join(packageRoot(), 'common', 'config.ts'), 'utf8');
  return [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]);
}

function checkBatchgridEnv(env: unknown, at: string, vars: Record<string, string>, add: (p: string, m: string) => void): void {
  const entries: [string, string][] = Array.isArray(env)
    ? env.map((e) => {
        const [k, ...v] = String(e).split('=');
        return [k, v.join('=')];
      })
    : isObj(env)
      ? Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])
      : [];
  const known = new Set([...configVariables(), ...OTHER_VARIABLES]);
  for (const [name] of entries) if (!known.has(name)) add(`${at}.${name}`, 'batchgrid does not read this variable (see common/config.ts)');
  const resolved = Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v, vars)]));
  try {
    loadConfig(resolved);
  } catch (err) {
    add(at, (err as Error).message);
  }
}

/** Compose's interpolation: `$$` → `$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR`. */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name, colon, def, bare) => {
    if (whole === '$$') return '$';
    const key = name ?? bare;
    const v = vars[key];
    if (def !== undefined) return v === undefined || (colon === ':' && v === '') ? def : v;
    return v ?? '';
  });
}

/** Every search attribute of common/search-attributes.ts is registered as `Name=Type` somewhere in the file. */
function checkSearchAttributes(text: string, add: (p: string, m: string) => void): void {
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    if (!new RegExp(`\\b${name}=${type}\\b`).test(text)) add('services', `no service registers the search attribute ${name} (type ${type}) of common/search-attributes.ts`);
  }
}

function main(): void {
  const file = path.resolve(process.argv[2] ?? 'docker-compose.yml');
  const problems = checkCompose(fs.readFileSync(file, 'utf8'), { baseDir: path.dirname(file), env: process.env as Record<string, string> });
  for (const p of problems) process.stderr.write(`${path.relative(process.cwd(), file)}: ${p.path}: ${p.message}\n`);
  process.stdout.write(problems.length ? `${problems.length} problem(s)\n` : `${path.relative(process.cwd(), file)}: valid\n`);
  process.exitCode = problems.length ? 1 : 0;
}

if (require.main === module) main();
