import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTaskError } from '../../common/errors';
import { loadConfig } from '../../common/config';
import { createExecTask, ExecParams } from '../../worker/builtin/exec';
import { expandCommand } from '../../worker/builtin/exec-argv';
import { forbiddenEnvReason } from '../../worker/builtin/exec-env';
import { ExecPolicyError, ExecRefusedError } from '../../worker/builtin/exec-errors';
import { compileExecPolicy, execPolicyFromSetting, loadExecPolicyFile, NO_EXEC_POLICY, planCommand, resolveProgram, UNRESTRICTED_EXEC_POLICY, type ExecPolicy } from '../../worker/builtin/exec-policy';
import { configuredExecPolicy } from '../../worker/fleet/options';

const examplePolicy = path.join(__dirname, '../../examples/exec/exec-policy.yaml');
const searchPath = process.env.PATH!;
const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExecPolicyError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected an ExecPolicyError');
};
const policy = (templates: Record<string, unknown>, extra: Record<string, unknown> = {}) => compileExecPolicy({ kind: 'ExecPolicy', templates, ...extra }, 'test.yaml', searchPath);
const params = (p: unknown) => ExecParams.parse(p);
const paramProblems = (p: unknown) => {
  const r = ExecParams.safeParse(p);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const refusal = (pol: ExecPolicy, p: unknown) => {
  try {
    planCommand(pol, params(p));
  } catch (err) {
    expect(err).toBeInstanceOf(ExecRefusedError);
    expect(err).toBeInstanceOf(PermanentTaskError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

const loose = policy({
  // A careless author: any text in a whole-argument slot. The option rule still holds.
  'sort-loose': { program: 'sort', args: ['{slot:what}', '{input}'], slots: { what: { type: 'string', pattern: '.*' } } },
  'sort-flag': { program: 'sort', args: ['{slot:flag}', '{input}'], slots: { flag: { type: 'string', pattern: '-[rnu]', allowOptionLike: true } } },
  print: { program: 'printf', args: ['%s|', '{slot:text}', 'x{slot:text}'], slots: { text: { type: 'string', pattern: '[^\\n]*' } }, pipelineEnv: { TZ: { type: 'enum', values: ['UTC', 'Europe/Paris'] } } },
  head: { program: 'head', args: ['-n', '{slot:n}'], slots: { n: { type: 'integer', min: 1, max: 100 } } },
  mode: { program: 'sort', args: ['--sort={slot:how}'], slots: { how: { type: 'enum', values: ['numeric', 'version'], default: 'numeric' } } },
});

describe('exec policy: loading', () => {
  test('the example policy loads; every program is resolved to an absolute path on the worker', () => {
    const p = loadExecPolicyFile(examplePolicy, searchPath);
    expect([...p.templates.keys()]).toEqual(['sort-lines', 'merge-sorted', 'head-lines', 'count-lines', 'sha256']);
    expect(p.allowRawArgv).toBe(false);
    const sort = p.templates.get('sort-lines')!;
    expect(path.isAbsolute(sort.program) && path.basename(sort.program)).toBe('sort');
    expect(sort.env).toEqual({ LC_ALL: 'C' });
  });

  test('a bare program name is looked up only in absolute PATH folders, never the current folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-policy-'));
    try {
      fs.writeFileSync(path.join(dir, 'sort'), '#!/bin/sh\necho fake\n', { mode: 0o755 });
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        expect(resolveProgram('sort', `.::${searchPath}`)).not.toBe(path.join(dir, 'sort'));
        expect(resolveProgram('sort', `.:`)).toEqual({ problem: expect.stringMatching(/'sort' is not on this worker's PATH/) });
      } finally {
        process.chdir(cwd);
      }
      expect(resolveProgram('sort', `${dir}:${searchPath}`)).toBe(path.join(dir, 'sort')); // the owner's PATH, at load time
      expect(resolveProgram('./sort', searchPath)).toEqual({ problem: expect.stringMatching(/bare name .* or an absolute path/) });
      expect(resolveProgram(path.join(dir, 'nope'), searchPath)).toEqual({ problem: expect.stringMatching(/is not an executable file/) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad policy is refused with every problem by path', () => {
    const bad = (xPattern: string) => ({
      a: { program: 'no-such-program-bg', args: ['{slot:x}', '{param:y}', '{slot:undeclared}'], slots: { x: { type: 'string', pattern: xPattern }, unused: { type: 'integer' } } },
      b: { program: 'sort', pipelineEnv: { PATH: { type: 'string', pattern: '.*' }, LD_PRELOAD: { type: 'string', pattern: '.*' }, LC_ALL: { type: 'enum', values: ['C'] } }, env: { LC_ALL: 'C' } },
      c: { program: 'sort', args: ['{slot:n}'], slots: { n: { type: 'integer', max: 5, default: 9 } } },
    });
    // Shape problems first (a bad regular expression); the rest once the shape is right.
    expect(problemsOf(() => policy(bad('(')))).toEqual([expect.stringMatching(/^templates\.a\.slots\.x\.pattern: must be a valid regular expression/)]);
    expect(problemsOf(() => policy(bad('.*')))).toEqual([
      expect.stringMatching(/^templates\.a\.program: 'no-such-program-bg' is not on this worker's PATH/),
      'templates.a.args.1: {param:y} belongs in a raw command; a template declares a slot and uses {slot:y}',
      'templates.a.args: {slot:undeclared} is used but not declared under slots',
      'templates.a.slots.unused: is declared but no argument uses {slot:unused}',
      expect.stringMatching(/^templates\.b\.pipelineEnv\.PATH: PATH cannot be set from a pipeline/),
      expect.stringMatching(/^templates\.b\.pipelineEnv\.LD_PRELOAD: LD_\* variables cannot be set from a pipeline/),
      'templates.b.pipelineEnv.LC_ALL: is also fixed under env: a variable is either fixed or left to pipelines',
      'templates.c.slots.n.default: does not fit the slot: an integer of at most 5',
    ]);
    expect(problemsOf(() => compileExecPolicy({ kind: 'Pipeline', templates: {}, extra: 1 }, 'x', searchPath))).toEqual(['kind: must be ExecPolicy', expect.stringMatching(/extra/)]);
    expect(problemsOf(() => loadExecPolicyFile('/nonexistent/policy.yaml'))).toEqual([expect.stringMatching(/^: cannot be read: ENOENT/)]);
  });

  test('settings: unset refuses everything, none drops exec, unrestricted allows raw argv, anything else is a file', () => {
    expect(execPolicyFromSetting(undefined)).toBe(NO_EXEC_POLICY);
    expect(execPolicyFromSetting('')).toBe(NO_EXEC_POLICY);
    expect(execPolicyFromSetting('none')).toBe('none');
    expect(execPolicyFromSetting('unrestricted')).toBe(UNRESTRICTED_EXEC_POLICY);
    expect((execPolicyFromSetting(examplePolicy) as ExecPolicy).templates.has('sort-lines')).toBe(true);
    expect(() => execPolicyFromSetting('/nonexistent/policy.yaml')).toThrow(ExecPolicyError);
  });

  test('the removed BATCHGRID_EXEC_ALLOW stops a fleet worker at start-up, naming what to use', () => {
    expect(() => configuredExecPolicy(loadConfig({ BATCHGRID_EXEC_ALLOW: 'sort' }))).toThrow(/BATCHGRID_EXEC_ALLOW was removed: .*set BATCHGRID_EXEC_POLICY to an exec policy file/);
    expect(configuredExecPolicy(loadConfig({}))).toBe(NO_EXEC_POLICY);
    expect(configuredExecPolicy(loadConfig({ BATCHGRID_EXEC_POLICY: 'none' }))).toBe('none');
  });
});

describe('exec policy: running a stage', () => {
  test('a template fills its slots; its program runs by absolute path', () => {
    const plan = planCommand(loose, params({ command: 'print', slots: { text: 'hi' }, env: { TZ: 'UTC' } }));
    expect(plan).toMatchObject({ command: [expect.stringMatching(/^\/.*\/printf$/), '%s|', '{slot:text}', 'x{slot:text}'], slots: { text: 'hi' }, env: { TZ: 'UTC' }, template: 'print', stdin: 'none' });
    expect(planCommand(loose, params({ command: 'head', slots: { n: '7' } })).slots).toEqual({ n: '7' });
    expect(planCommand(loose, params({ command: 'mode' })).slots).toEqual({ how: 'numeric' });
    expect(planCommand(loose, params({ command: 'sort-flag', slots: { flag: '-r' } })).slots).toEqual({ flag: '-r' }); // the author allowed these options
  });

  test('slot values are checked against their declarations', () => {
    expect(refusal(loose, { command: 'head', slots: { n: 0 } })).toBe("exec template 'head' slot 'n': 0 is out of range (an integer from 1 to 100)");
    expect(refusal(loose, { command: 'head', slots: { n: '1e3' } })).toMatch(/slot 'n': "1e3" is not an integer/);
    expect(refusal(loose, { command: 'head' })).toBe("exec template 'head' slot 'n' needs a value: an integer from 1 to 100");
    expect(refusal(loose, { command: 'mode', slots: { how: 'random' } })).toBe(`exec template 'mode' slot 'how': "random" is not allowed (one of "numeric", "version")`);
    expect(refusal(loose, { command: 'print', slots: { text: 'a\nb' } })).toMatch(/slot 'text': "a\\nb" does not match a string matching/);
    expect(refusal(loose, { command: 'head', slots: { n: 5, extra: 1 } })).toBe("exec template 'head' has no slot 'extra' (its slots: n); its other arguments are fixed");
    expect(refusal(loose, { command: 'nope' })).toMatch(/^exec template 'nope' is not in this fleet's exec policy \(test\.yaml; templates: sort-loose, sort-flag, print, head, mode\)/);
  });

  test('a slot value can never become an option: --compress-program=sh is refused even where the pattern matches', () => {
    for (const value of ['--compress-program=sh', '-T/tmp', '-']) {
      expect(refusal(loose, { command: 'sort-loose', slots: { what: value } })).toMatch(/^exec template 'sort-loose' slot 'what': .* looks like an option of the program \(starts with '-'\)/);
    }
    expect(refusal(loose, { command: 'sort-flag', slots: { flag: '--compress-program=sh' } })).toMatch(/does not match/);
  });

  test('extra arguments, vars and passEnv from a pipeline are refused with a template', () => {
    expect(paramProblems({ command: 'sort-loose', args: ['--compress-program=sh'] })).toEqual(["args: cannot be set: a template's arguments are fixed by the fleet's exec policy; fill its slots instead"]);
    expect(paramProblems({ command: 'sort-loose', vars: { a: 1 }, passEnv: ['AWS_SECRET_ACCESS_KEY'] })).toEqual([expect.stringMatching(/^vars: cannot be set with a template/), expect.stringMatching(/^passEnv: cannot be set with a template/)]);
    expect(paramProblems({ command: ['sort'], slots: { a: 1 } })).toEqual([expect.stringMatching(/^slots: go with a template name/)]);
  });

  test('injection strings in slots reach the program literally: no shell, no second expansion', () => {
    const nasty = '; touch /tmp/pwned $(id) `id` | cat > x {input} {slot:text} {outputDir} $HOME *';
    const plan = planCommand(loose, params({ command: 'print', slots: { text: nasty } }));
    const argv = expandCommand(plan.command, { inputs: ['/in/a'], outputDir: '/out', part: 0, attempt: 1, jobId: 'j', stageId: 's', vars: {}, slots: plan.slots });
    expect(argv.slice(1)).toEqual(['%s|', nasty, `x${nasty}`]);
  });

  test('PATH, LD_PRELOAD, NODE_OPTIONS and their families are never settable, in either shape', () => {
    const names = ['PATH', 'path', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'NODE_OPTIONS', 'PYTHONPATH', 'PYTHONSTARTUP', 'BASH_ENV', 'ENV', 'IFS', 'PERL5OPT', 'RUBYOPT', 'HOME', 'AWS_CONFIG_FILE', 'GIT_SSH_COMMAND'];
    for (const name of names) {
      expect(paramProblems({ command: ['sort'], env: { [name]: '/tmp/evil' } })).toEqual([expect.stringMatching(new RegExp(`^env\\.${name}: .*cannot be set from a pipeline`))]);
      expect(paramProblems({ command: 'print', slots: { text: 'x' }, env: { [name]: '/tmp/evil' } })).toEqual([expect.stringMatching(/cannot be set from a pipeline/)]);
    }
    for (const name of ['LC_ALL', 'TZ', 'OMP_NUM_THREADS', 'LANG']) expect(forbiddenEnvReason(name)).toBeUndefined();
  });

  test('a template lets a pipeline set only the env names it declares, with checked values', () => {
    expect(refusal(loose, { command: 'print', slots: { text: 'x' }, env: { LC_ALL: 'C' } })).toBe("exec template 'print' does not let a pipeline set env LC_ALL (it allows: TZ)");
    expect(refusal(loose, { command: 'print', slots: { text: 'x' }, env: { TZ: 'Mars/Olympus' } })).toMatch(/^exec template 'print' env TZ: "Mars\/Olympus" is not allowed/);
    expect(refusal(loose, { command: 'head', slots: { n: 1 }, env: { TZ: 'UTC' } })).toBe("exec template 'head' does not let a pipeline set env TZ (it allows: none)");
  });

  test('raw argv is refused by default and by a policy file, naming the setting; unrestricted runs it', () => {
    const raw = { command: ['sort', '--compress-program=sh', '{input}'] };
    expect(refusal(NO_EXEC_POLICY, raw)).toMatch(/^exec refuses raw command lists: this fleet worker has no exec policy\. .*BATCHGRID_EXEC_POLICY \(or fleet-worker --exec-policy\)/);
    expect(refusal(NO_EXEC_POLICY, { command: 'sort-lines' })).toMatch(/^exec template 'sort-lines' is unknown: this fleet worker has no exec policy; .*BATCHGRID_EXEC_POLICY/);
    expect(refusal(loose, raw)).toMatch(/^exec refuses raw command lists on this fleet \(exec policy test\.yaml\): name one of its templates/);
    expect(planCommand(UNRESTRICTED_EXEC_POLICY, params(raw)).command).toEqual(raw.command);
    expect(planCommand(policy({}, { allowRawArgv: true }), params(raw)).command).toEqual(raw.command);
  });

  test('the built-in exec task refuses before it downloads anything', async () => {
    const ctx = { params: params({ command: ['sh', '-c', 'touch /tmp/x'] }), inputs: [], signal: new AbortController().signal, openInput: () => { throw new Error('downloaded'); } } as never;
    await expect(createExecTask().run({ jobId: 'j', stageId: 's', part: 0, attempt: 1 } as never, ctx)).rejects.toThrow(ExecRefusedError);
  });
});
