import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { commandProblems, parseArgument } from './exec-argv';
import { DEFAULT_PATH, ENV_NAME, forbiddenEnvReason } from './exec-env';
import { ExecPolicyError, ExecRefusedError } from './exec-errors';
import { isTemplateParams, TEMPLATE_NAME, type ExecParams } from './exec-params';

/**
 * The fleet owner's exec policy: which commands the built-in `exec` task runs on this fleet.
 * A policy file (YAML or JSON, `kind: ExecPolicy`) declares named templates: a program, resolved
 * to an absolute path on the worker when the policy loads (never through a PATH a pipeline
 * controls), fixed arguments with placeholders and typed slots, the environment names a pipeline
 * may set. A stage names a template and fills only its slots. Raw command lists from pipelines
 * run only where the owner opted in (`allowRawArgv: true`, or the `unrestricted` setting).
 */

/** Slot names: the KEY of `{slot:KEY}`. */
const SLOT_NAME = /^[A-Za-z0-9_.-]+$/;
/** Longest value of a string slot unless the template says otherwise, in characters. */
const DEFAULT_MAX_LENGTH = 1024;

const validRegex = (pattern: string) => {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
};

const description = z.string().optional();
/** What a slot (or a `pipelineEnv` variable) accepts. */
const SlotSpec = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('integer'), min: z.number().int().optional(), max: z.number().int().optional(), default: z.number().int().optional(), description }).strict(),
    z.object({ type: z.literal('enum'), values: z.array(z.string()).min(1), default: z.string().optional(), description }).strict(),
    z
      .object({
        type: z.literal('string'),
        /** The whole value must match (anchored). */
        pattern: z.string().refine(validRegex, { error: 'must be a valid regular expression' }),
        maxLength: z.number().int().min(1).max(65_536).default(DEFAULT_MAX_LENGTH),
        /** Let a value start with `-` (an option of the program). Default: false. */
        allowOptionLike: z.boolean().default(false),
        default: z.string().optional(),
        description,
      })
      .strict(),
  ],
  { error: 'type must be integer, enum or string' },
);
export type SlotSpec = z.infer<typeof SlotSpec>;

const TemplateSpec = z
  .object({
    description,
    /** A bare name (looked up on the worker's own PATH when the policy loads) or an absolute path. */
    program: z.string().min(1),
    args: z.array(z.string()).default([]),
    slots: z.record(z.string().regex(SLOT_NAME, { error: 'slot names are letters, digits, "_", "." or "-"' }), SlotSpec).default({}),
    /** Fixed environment of the command. */
    env: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), z.string()).default({}),
    /** Environment names a pipeline may set, with what each accepts. */
    pipelineEnv: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), SlotSpec).default({}),
    /** The worker's own variables the command gets. */
    passEnv: z.array(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' })).default([]),
    stdin: z.enum(['input', 'none']).optional(),
  })
  .strict();

const PolicyFile = z
  .object({
    apiVersion: z.literal('batchgrid/v1').optional(),
    kind: z.literal('ExecPolicy', { error: 'must be ExecPolicy' }),
    /** Let pipelines run raw command lists (any program on the PATH). Unsafe on a shared fleet. Default: false. */
    allowRawArgv: z.boolean().default(false),
    templates: z.record(z.string().regex(TEMPLATE_NAME, { error: 'template names are letters, digits, ".", "_" or "-", at most 64 characters' }), TemplateSpec).default({}),
  })
  .strict();

/** One template, ready to run. */
export interface ExecTemplate {
  readonly name: string;
  /** Absolute path, resolved when the policy loaded. */
  readonly program: string;
  readonly args: readonly string[];
  readonly slots: Readonly<Record<string, SlotSpec>>;
  readonly env: Readonly<Record<string, string>>;
  readonly pipelineEnv: Readonly<Record<string, SlotSpec>>;
  readonly passEnv: readonly string[];
  readonly stdin?: 'input' | 'none';
}

/** A loaded exec policy. */
export interface ExecPolicy {
  /** Where it came from, for messages: a file, `unrestricted`, or `none configured`. */
  readonly source: string;
  /** False for the default when nothing is configured (refusals then say how to configure one). */
  readonly configured: boolean;
  readonly allowRawArgv: boolean;
  readonly templates: ReadonlyMap<string, ExecTemplate>;
}

/** The policy when none is configured: no templates, raw command lists refused. */
export const NO_EXEC_POLICY: ExecPolicy = Object.freeze({ source: 'none configured', configured: false, allowRawArgv: false, templates: new Map() });
/** `BATCHGRID_EXEC_POLICY=unrestricted`: raw command lists allowed (the environment denylist still holds). Single-user machines only. */
export const UNRESTRICTED_EXEC_POLICY: ExecPolicy = Object.freeze({ source: 'unrestricted', configured: true, allowRawArgv: true, templates: new Map() });

/** The variable and the flag that configure the policy, as refusals name them. */
const SETTING = 'BATCHGRID_EXEC_POLICY (or fleet-worker --exec-policy)';

/** The policy a setting names: unset → NO_EXEC_POLICY, `none` → exec not registered, `unrestricted`, or a policy file. */
export function execPolicyFromSetting(setting: string | undefined, searchPath = process.env.PATH || DEFAULT_PATH): ExecPolicy | 'none' {
  if (setting === undefined || setting === '') return NO_EXEC_POLICY;
  if (setting === 'none') return 'none';
  if (setting === 'unrestricted') return UNRESTRICTED_EXEC_POLICY;
  return loadExecPolicyFile(path.resolve(setting), searchPath);
}

/** Reads and compiles a policy file (YAML or JSON). Throws ExecPolicyError naming every problem. */
export function loadExecPolicyFile(file: string, searchPath = process.env.PATH || DEFAULT_PATH): ExecPolicy {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ExecPolicyError(file, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  return compileExecPolicy(doc, file, searchPath);
}

/** Checks a policy document and resolves every template's program on `searchPath` (the worker's own PATH). */
export function compileExecPolicy(doc: unknown, source: string, searchPath = process.env.PATH || DEFAULT_PATH): ExecPolicy {
  const parsed = PolicyFile.safeParse(doc);
  if (!parsed.success) throw new ExecPolicyError(source, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  const problems: { path: string; message: string }[] = [];
  const templates = new Map<string, ExecTemplate>();
  for (const [name, t] of Object.entries(parsed.data.templates)) {
    const at = (suffix: string) => `templates.${name}.${suffix}`;
    const program = resolveProgram(t.program, searchPath);
    if (typeof program !== 'string') problems.push({ path: at('program'), message: program.problem });
    for (const p of commandProblems(t.args, 'template')) problems.push({ path: at(`args.${p.index}`), message: p.message });
    const used = new Set(t.args.flatMap((arg) => safeTokens(arg).flatMap((tok) => (tok.kind === 'slot' ? [tok.key] : []))));
    for (const slot of used) if (!(slot in t.slots)) problems.push({ path: at('args'), message: `{slot:${slot}} is used but not declared under slots` });
    for (const [slot, spec] of Object.entries(t.slots)) {
      if (!used.has(slot)) problems.push({ path: at(`slots.${slot}`), message: `is declared but no argument uses {slot:${slot}}` });
      if (spec.default !== undefined && 'problem' in checkValue(spec, spec.default, true)) problems.push({ path: at(`slots.${slot}.default`), message: `does not fit the slot: ${describeSpec(spec)}` });
    }
    for (const envName of Object.keys(t.pipelineEnv)) {
      const reason = forbiddenEnvReason(envName);
      if (reason) problems.push({ path: at(`pipelineEnv.${envName}`), message: reason });
      if (envName in t.env) problems.push({ path: at(`pipelineEnv.${envName}`), message: 'is also fixed under env: a variable is either fixed or left to pipelines' });
    }
    if (typeof program === 'string') templates.set(name, { name, program, args: t.args, slots: t.slots, env: t.env, pipelineEnv: t.pipelineEnv, passEnv: t.passEnv, stdin: t.stdin });
  }
  if (problems.length) throw new ExecPolicyError(source, problems);
  return Object.freeze({ source, configured: true, allowRawArgv: parsed.data.allowRawArgv, templates });
}

/** An absolute path for `program`: as given when absolute, else the first executable file of that name on `searchPath`'s absolute folders. */
export function resolveProgram(program: string, searchPath: string): string | { problem: string } {
  if (program.includes('/')) {
    if (!path.isAbsolute(program)) return { problem: `must be a bare name (looked up on the worker's PATH when the policy loads) or an absolute path, not ${JSON.stringify(program)}` };
    return isExecutableFile(program) ? program : { problem: `${program} is not an executable file on this worker` };
  }
  // Empty and relative PATH entries mean "the current folder": never look there.
  for (const dir of searchPath.split(path.delimiter).filter((d) => path.isAbsolute(d))) {
    const candidate = path.join(dir, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return { problem: `'${program}' is not on this worker's PATH (${searchPath})` };
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const safeTokens = (arg: string) => {
  try {
    return parseArgument(arg);
  } catch {
    return []; // commandProblems reports it
  }
};

/** The command one stage's params ask for, checked against the policy; what runExec runs. */
export interface CommandPlan {
  /** Program (absolute for a template) and arguments, placeholders not yet expanded. */
  command: readonly string[];
  /** Values of `{param:KEY}` (raw) and `{slot:NAME}` (template), as strings. */
  vars: Record<string, string>;
  slots: Record<string, string>;
  /** Set on top of the engine's own variables. */
  env: Record<string, string>;
  passEnv: readonly string[];
  stdin: 'input' | 'none';
  /** The template's name, for logs and messages. */
  template?: string;
}

/** Checks `params` against the policy; throws ExecRefusedError (permanent) naming what is refused. */
export function planCommand(policy: ExecPolicy, params: ExecParams): CommandPlan {
  if (!isTemplateParams(params)) {
    if (!policy.allowRawArgv) throw new ExecRefusedError(rawRefusal(policy));
    const vars = Object.fromEntries(Object.entries(params.vars).map(([k, v]) => [k, String(v)]));
    return { command: params.command, vars, slots: {}, env: params.env, passEnv: params.passEnv, stdin: params.stdin };
  }
  const t = policy.templates.get(params.command);
  if (!t) throw new ExecRefusedError(unknownTemplate(policy, params.command));
  const slots: Record<string, string> = {};
  for (const key of Object.keys(params.slots)) {
    if (!(key in t.slots)) throw new ExecRefusedError(`exec template '${t.name}' has no slot '${key}' (${listOf('its slots', Object.keys(t.slots))}); its other arguments are fixed`);
  }
  for (const [key, spec] of Object.entries(t.slots)) {
    const given = params.slots[key] ?? spec.default;
    if (given === undefined) throw new ExecRefusedError(`exec template '${t.name}' slot '${key}' needs a value: ${describeSpec(spec)}`);
    const checked = checkValue(spec, given, true);
    if ('problem' in checked) throw new ExecRefusedError(`exec template '${t.name}' slot '${key}': ${checked.problem}`);
    slots[key] = checked.value;
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(params.env)) {
    const spec = t.pipelineEnv[name];
    if (!spec) throw new ExecRefusedError(`exec template '${t.name}' does not let a pipeline set env ${name} (${listOf('it allows', Object.keys(t.pipelineEnv))})`);
    const checked = checkValue(spec, value, false);
    if ('problem' in checked) throw new ExecRefusedError(`exec template '${t.name}' env ${name}: ${checked.problem}`);
    env[name] = checked.value;
  }
  return { command: [t.program, ...t.args], vars: {}, slots, env: { ...env, ...t.env }, passEnv: t.passEnv, stdin: params.stdin ?? t.stdin ?? 'none', template: t.name };
}

/** A value as the slot's string, or why it does not fit. `asArgument`: refuse option-like strings unless the slot allows them. */
export function checkValue(spec: SlotSpec, value: string | number | boolean, asArgument: boolean): { value: string } | { problem: string } {
  const shown = JSON.stringify(value).slice(0, 120);
  const no = (why: string) => ({ problem: `${shown} ${why}` });
  switch (spec.type) {
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^[+-]?\d{1,16}$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) return no(`is not an integer (${describeSpec(spec)})`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return no(`is out of range (${describeSpec(spec)})`);
      return { value: String(n) };
    }
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value) ? { value } : no(`is not allowed (${describeSpec(spec)})`);
    case 'string': {
      const text = typeof value === 'number' ? String(value) : value;
      if (typeof text !== 'string') return no(`is not a string (${describeSpec(spec)})`);
      if (text.length > spec.maxLength) return { problem: `a value of ${text.length} characters is longer than ${spec.maxLength}` };
      if (text.includes('\0')) return no('holds a NUL character');
      if (!new RegExp(`^(?:${spec.pattern})$`, 'u').test(text)) return no(`does not match ${describeSpec(spec)}`);
      if (asArgument && !spec.allowOptionLike && text.startsWith('-')) {
        return no("looks like an option of the program (starts with '-'): the template's author has not allowed option-like values in this slot (allowOptionLike)");
      }
      return { value: text };
    }
  }
}

/** `integer 1–100`, `one of a, b`, `string matching /re/`. */
export function describeSpec(spec: SlotSpec): string {
  if (spec.type === 'enum') return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (spec.type === 'string') return `a string matching /${spec.pattern}/`;
  if (spec.min !== undefined && spec.max !== undefined) return `an integer from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `an integer of at least ${spec.min}`;
  if (spec.max !== undefined) return `an integer of at most ${spec.max}`;
  return 'an integer';
}

const listOf = (what: string, names: readonly string[]) => (names.length ? `${what}: ${names.join(', ')}` : `${what}: none`);

function rawRefusal(policy: ExecPolicy): string {
  if (!policy.configured) {
    return `exec refuses raw command lists: this fleet worker has no exec policy. Name a template the fleet owner declared (command: "<template>", slots: {…}); the fleet owner sets ${SETTING} to a policy file of templates, or to "unrestricted" on a single-user machine (unsafe: anyone who can submit a pipeline runs any program)`;
  }
  return `exec refuses raw command lists on this fleet (exec policy ${policy.source}): name one of its templates instead (command: "<template>", slots: {…}; ${listOf('templates', [...policy.templates.keys()])})`;
}

function unknownTemplate(policy: ExecPolicy, name: string): string {
  if (!policy.configured) return `exec template '${name}' is unknown: this fleet worker has no exec policy; the fleet owner sets ${SETTING} to a policy file that declares it`;
  return `exec template '${name}' is not in this fleet's exec policy (${policy.source}; ${listOf('templates', [...policy.templates.keys()])})`;
}
