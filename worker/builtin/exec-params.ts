import { z } from 'zod';
import { commandProblems, missingVars } from './exec-argv';
import { ENV_NAME, forbiddenEnvReason } from './exec-env';

/**
 * Params of the `exec` task, in two shapes told apart by `command`:
 * - a **template** (`command: "sort-lines"`, `slots: {…}`): a command the fleet owner declared in
 *   the fleet's exec policy; the pipeline fills only its slots. What shared fleets run.
 * - a **raw command list** (`command: ["sort", "{input}"]`): only on fleets whose policy allows
 *   raw argv (single-user machines).
 * Pure code: which templates exist is the fleet's business (exec-policy.ts); this checks shape,
 * placeholders and the environment denylist, so bad params are refused before anything runs.
 */

const VAR_NAME = /^[A-Za-z0-9_.-]+$/;
/** Template names: letters, digits, `.`, `_`, `-`, at most 64 characters. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const relativeFile = z.string().refine((name) => name !== '' && !name.startsWith('/') && !name.split('/').some((s) => s === '' || s === '.' || s === '..'), {
  error: 'must be a relative file name below {outputDir}, without empty, "." or ".." segments (e.g. "out.txt")',
});

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or a boolean' });

/** Extra environment variables: names checked against the denylist (exec-env.ts). */
const env = z.record(z.string(), z.string({ error: 'must be a string (write numbers in quotes)' })).superRefine((vars, ctx) => {
  for (const name of Object.keys(vars)) {
    if (!ENV_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'environment variable names are letters, digits and "_", not starting with a digit' });
    else {
      const reason = forbiddenEnvReason(name);
      if (reason) ctx.addIssue({ code: 'custom', path: [name], message: reason });
    }
  }
});

/** Fields both shapes share: how stdin, stdout, stderr and exit codes are handled. */
const common = {
  /** Save stdout as this file under {outputDir} (so it becomes an output). Default: keep its tail in the result. */
  stdoutFile: relativeFile.optional(),
  /** Bytes of stderr kept for the error of a failed part (its end). Default: 4096. */
  maxStderrBytes: z.number().int().min(0).max(65_536).default(4096),
  /** Bytes of stdout returned as `stdoutTail` (its end); 0 for none. Default: 1024. */
  maxStdoutBytes: z.number().int().min(0).max(8192).default(1024),
  /** Exit codes a retry cannot fix: the part fails at once. Default: [126, 127] (not executable, not found). */
  permanentExitCodes: z.array(z.number().int().min(1).max(255)).default([126, 127]),
  cwd: z.never({ error: 'cannot be set: the command runs in a private scratch folder; write outputs under {outputDir}' }).optional(),
};

/** A raw command list (strict: an unknown key is refused). */
export const RawExecParams = z
  .object({
    /** Program and arguments, never run through a shell. Placeholders: see exec-argv.ts. */
    command: z
      .array(z.string({ error: 'each argument must be a string' }), {
        error: 'must be the name of a template of the fleet\'s exec policy (e.g. "sort-lines"), or, where raw commands are allowed, a list: the program, then its arguments, e.g. ["sort", "{input}"]',
      })
      .min(1, { error: 'must name at least the program, e.g. ["sort", "{input}"]' })
      .refine((argv) => argv[0] !== '', { error: 'the program (first element) must not be empty' })
      .superRefine((argv, ctx) => {
        for (const p of commandProblems(argv, 'raw')) ctx.addIssue({ code: 'custom', path: [p.index], message: p.message });
      }),
    /** Values for `{param:NAME}`. Default: none. */
    vars: z.record(z.string(), scalar).default({}),
    /** Extra environment variables of the program (never PATH, LD_*, NODE_* …: exec-env.ts). Default: none. */
    env: env.default({}),
    /** Names of the worker's own environment variables to pass on (nothing else is inherited but PATH and the locale). Default: none. */
    passEnv: z.array(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' })).default([]),
    /** `input`: the part's inputs, concatenated, on stdin; `none`: stdin is /dev/null. Default: none. */
    stdin: z.enum(['input', 'none']).default('none'),
    slots: z.never({ error: 'go with a template name in command (command: "sort-lines"); a raw command list uses {param:NAME} and vars' }).optional(),
    ...common,
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const name of Object.keys(p.vars)) {
      if (!VAR_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['vars', name], message: 'names in vars are letters, digits, "_", "." or "-"' });
    }
    for (const problem of missingVars(p.command, Object.keys(p.vars))) {
      ctx.addIssue({ code: 'custom', path: ['command', problem.index], message: problem.message });
    }
  });
export type RawExecParams = z.infer<typeof RawExecParams>;

/** A template of the fleet's exec policy with its slots filled (strict: extra arguments are refused). */
export const TemplateExecParams = z
  .object({
    /** Name of a template in the fleet's exec policy. */
    command: z.string().regex(TEMPLATE_NAME, { error: 'must be a template name: letters, digits, ".", "_" or "-", at most 64 characters' }),
    /** Values of the template's slots, checked against their declarations on the fleet. Default: none. */
    slots: z.record(z.string(), scalar).default({}),
    /** Environment variables the template lets a pipeline set (its `pipelineEnv`). Default: none. */
    env: env.default({}),
    /** `input` or `none`. Default: the template's, else none. */
    stdin: z.enum(['input', 'none']).optional(),
    args: z.never({ error: "cannot be set: a template's arguments are fixed by the fleet's exec policy; fill its slots instead" }).optional(),
    vars: z.never({ error: 'cannot be set with a template: fill its slots instead' }).optional(),
    passEnv: z.never({ error: "cannot be set with a template: the template's passEnv decides which worker variables the program gets" }).optional(),
    ...common,
  })
  .strict();
export type TemplateExecParams = z.infer<typeof TemplateExecParams>;

/** Params of the `exec` task: a template (`command` is a string) or a raw command list. */
export type ExecParams = RawExecParams | TemplateExecParams;

/** True for the template shape (`command` is a template name). */
export const isTemplateParams = (p: ExecParams): p is TemplateExecParams => typeof p.command === 'string';

/** Parses either shape, reporting the problems of the one `command` selects. */
export const ExecParams: z.ZodType<ExecParams> = z.unknown().transform((value, ctx) => {
  const template = typeof value === 'object' && value !== null && typeof (value as { command?: unknown }).command === 'string';
  const r = (template ? TemplateExecParams : RawExecParams).safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  return z.NEVER;
});
