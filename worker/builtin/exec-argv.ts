import { PlaceholderError } from './exec-errors';

/**
 * Placeholders of the `exec` task's command. Pure code: parsing and checking happen when the
 * params are parsed (so a bad command is refused before anything runs), expansion just before
 * the program starts. No shell is involved anywhere: an expanded argument reaches the program
 * byte for byte, whatever characters it holds.
 *
 * Grammar of one argument:
 * - `{name}` (a letter, then letters, digits or `_`) is a placeholder; an unknown name is an error.
 * - `{param:KEY}` (KEY: letters, digits, `_`, `.`, `-`) is the value of `vars.KEY` (raw commands).
 * - `{slot:NAME}` is the checked value of a slot (templates of the fleet's exec policy only).
 * - `{{name}}` and `{{param:KEY}}` are the literal text `{name}` and `{param:KEY}`.
 * - Any other brace text (`{}`, `{print $1}`, `{{.Id}}`, `{"a":1}`) is passed as it is.
 */

/** Placeholder names, with what each expands to (for error messages and docs). */
export const PLACEHOLDERS = {
  input: "the local path of the part's first input",
  inputs: 'one argument per input (local paths, in order); only as a whole argument',
  outputDir: 'the folder whose files become the part’s outputs',
  part: 'the part number',
  attempt: 'the attempt number (1 on the first try)',
  jobId: 'the job id',
  stageId: 'the stage id',
} as const;

export type PlaceholderName = keyof typeof PLACEHOLDERS;

/** One piece of an argument: literal text or a placeholder. */
export type ArgToken = { kind: 'text'; text: string } | { kind: 'placeholder'; name: PlaceholderName } | { kind: 'var'; key: string } | { kind: 'slot'; key: string };

/** Where a command comes from: a pipeline's raw list (`{param:KEY}`) or a policy template (`{slot:NAME}`). */
export type CommandForm = 'raw' | 'template';

/** What placeholders expand to for one part. */
export interface PlaceholderValues {
  /** Local paths of the part's inputs, in order. */
  inputs: readonly string[];
  outputDir: string;
  part: number;
  attempt: number;
  jobId: string;
  stageId: string;
  /** `vars` of the params, each already a string. */
  vars: Readonly<Record<string, string>>;
  /** Checked slot values of a template, each already a string. Default: none. */
  slots?: Readonly<Record<string, string>>;
}

const PLACEHOLDER = /^\{([A-Za-z][A-Za-z0-9_]*)(?::([A-Za-z0-9_.-]+))?\}/;
const ESCAPED = /^\{\{([A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_.-]+)?)\}\}/;
const NAMES = Object.keys(PLACEHOLDERS) as PlaceholderName[];

const isName = (name: string): name is PlaceholderName => Object.prototype.hasOwnProperty.call(PLACEHOLDERS, name);

/** Splits one argument into text and placeholders; throws PlaceholderError for an unknown placeholder. */
export function parseArgument(arg: string): ArgToken[] {
  const tokens: ArgToken[] = [];
  let text = '';
  let i = 0;
  while (i < arg.length) {
    if (arg[i] !== '{') {
      text += arg[i];
      i += 1;
      continue;
    }
    const rest = arg.slice(i);
    const escaped = ESCAPED.exec(rest);
    if (escaped) {
      text += `{${escaped[1]}}`;
      i += escaped[0].length;
      continue;
    }
    const m = PLACEHOLDER.exec(rest);
    if (!m) {
      text += '{';
      i += 1;
      continue;
    }
    const [whole, name, key] = m;
    if (key !== undefined && (name === 'param' || name === 'slot')) {
      if (text) tokens.push({ kind: 'text', text });
      text = '';
      tokens.push({ kind: name === 'param' ? 'var' : 'slot', key });
    } else if (key === undefined && isName(name)) {
      if (text) tokens.push({ kind: 'text', text });
      text = '';
      tokens.push({ kind: 'placeholder', name });
    } else {
      throw new PlaceholderError(
        `unknown placeholder ${whole}: use one of ${NAMES.map((n) => `{${n}}`).join(', ')} or {param:NAME} (a key of vars); write {${whole}} for the literal text ${whole}`,
      );
    }
    i += whole.length;
  }
  if (text || tokens.length === 0) tokens.push({ kind: 'text', text });
  return tokens;
}

/**
 * Problems of a command by argument index: unknown placeholders, `{inputs}` inside a longer
 * argument, `{slot:…}` in a raw command or `{param:…}` in a template. Empty when fine.
 */
export function commandProblems(command: readonly string[], form: CommandForm = 'raw'): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  command.forEach((arg, index) => {
    let tokens: ArgToken[];
    try {
      tokens = parseArgument(arg);
    } catch (err) {
      problems.push({ index, message: (err as Error).message });
      return;
    }
    if (tokens.length > 1 && tokens.some((t) => t.kind === 'placeholder' && t.name === 'inputs')) {
      problems.push({ index, message: '{inputs} must be a whole argument (it expands to one argument per input); use {input} inside a longer argument' });
    }
    for (const t of tokens) {
      if (t.kind === 'slot' && form === 'raw') problems.push({ index, message: `{slot:${t.key}} belongs in a template of the fleet's exec policy; a raw command uses {param:${t.key}} and vars` });
      if (t.kind === 'var' && form === 'template') problems.push({ index, message: `{param:${t.key}} belongs in a raw command; a template declares a slot and uses {slot:${t.key}}` });
    }
  });
  return problems;
}

/** `{param:KEY}` uses without a `vars` entry, by argument index (arguments with syntax problems are skipped: commandProblems reports them). */
export function missingVars(command: readonly string[], varNames: readonly string[]): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  command.forEach((arg, index) => {
    let tokens: ArgToken[];
    try {
      tokens = parseArgument(arg);
    } catch {
      return;
    }
    for (const t of tokens) {
      if (t.kind === 'var' && !varNames.includes(t.key)) {
        const known = varNames.length ? `vars has ${varNames.map((v) => JSON.stringify(v)).join(', ')}` : 'params has no vars';
        problems.push({ index, message: `{param:${t.key}} has no value: add "${t.key}" to vars (${known})` });
      }
    }
  });
  return problems;
}

/** The argument vector for one part: every placeholder replaced; `{inputs}` becomes one argument per input. */
export function expandCommand(command: readonly string[], values: PlaceholderValues): string[] {
  const argv: string[] = [];
  for (const arg of command) {
    const tokens = parseArgument(arg);
    if (tokens.length === 1 && tokens[0].kind === 'placeholder' && tokens[0].name === 'inputs') {
      argv.push(...values.inputs);
      continue;
    }
    argv.push(tokens.map((t) => expandToken(t, values)).join(''));
  }
  if (argv.length === 0 || argv[0] === '') {
    throw new PlaceholderError(`the command expands to no program name (command: ${JSON.stringify(command)})`);
  }
  return argv;
}

function expandToken(t: ArgToken, v: PlaceholderValues): string {
  if (t.kind === 'text') return t.text;
  if (t.kind === 'var') {
    if (!Object.prototype.hasOwnProperty.call(v.vars, t.key)) throw new PlaceholderError(`{param:${t.key}} has no value: add "${t.key}" to vars`);
    return v.vars[t.key];
  }
  if (t.kind === 'slot') {
    if (!v.slots || !Object.prototype.hasOwnProperty.call(v.slots, t.key)) throw new PlaceholderError(`{slot:${t.key}} has no value`);
    return v.slots[t.key];
  }
  switch (t.name) {
    case 'input':
      if (v.inputs.length === 0) throw new PlaceholderError('{input} is used but this part has no inputs');
      return v.inputs[0];
    case 'inputs':
      throw new PlaceholderError('{inputs} must be a whole argument (it expands to one argument per input)');
    case 'outputDir':
      return v.outputDir;
    case 'part':
      return String(v.part);
    case 'attempt':
      return String(v.attempt);
    case 'jobId':
      return v.jobId;
    case 'stageId':
      return v.stageId;
  }
}
