import fs from 'node:fs';
import path from 'node:path';
import { PermanentTaskError } from '../../common/errors';
import { compilePipeline } from '../../pipeline';
import { MAX_ERROR_MESSAGE_CHARS } from '../../worker/fleet/runner';
import { commandFailure, ExecParams, fitJson } from '../../worker/builtin/exec';
import { CommandFailedError, PermanentCommandFailedError } from '../../worker/builtin/exec-errors';
import { localName } from '../../worker/builtin/exec-files';
import { Tail, tailText } from '../../worker/builtin/exec-process';

const problems = (params: unknown) => {
  const r = ExecParams.safeParse(params);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('exec params', () => {
  test('defaults', () => {
    expect(ExecParams.parse({ command: ['sort', '{input}'] })).toEqual({
      command: ['sort', '{input}'], vars: {}, env: {}, passEnv: [], stdin: 'none', maxStderrBytes: 4096, maxStdoutBytes: 1024, permanentExitCodes: [126, 127],
    });
  });

  test('a template defaults to no slots and no env; its stdin is left to the template', () => {
    expect(ExecParams.parse({ command: 'sort-lines' })).toEqual({ command: 'sort-lines', slots: {}, env: {}, maxStderrBytes: 4096, maxStdoutBytes: 1024, permanentExitCodes: [126, 127] });
  });

  test('a full definition parses', () => {
    const p = { command: ['x', '{param:q}'], vars: { q: 5 }, env: { A_B: '1' }, passEnv: ['HTTP_PROXY'], stdin: 'input', stdoutFile: 'sub/out.txt', maxStderrBytes: 100, maxStdoutBytes: 0, permanentExitCodes: [2] };
    expect(ExecParams.parse(p)).toEqual(p);
  });

  test('examples/exec/pipeline.yaml is valid, and so is every exec stage\'s params', () => {
    const r = compilePipeline(fs.readFileSync(path.join(__dirname, '../../examples/exec/pipeline.yaml'), 'utf8'), 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const exec = r.pipeline.stages.filter((s) => s.task === 'exec');
    expect(exec.map((s) => s.id)).toEqual(['sort', 'merge', 'count', 'checksum']);
    for (const s of exec) expect(problems(s.params)).toEqual([]);
  });

  test('bad params are refused with every problem by path', () => {
    const shapes = 'command: must be the name of a template of the fleet\'s exec policy (e.g. "sort-lines"), or, where raw commands are allowed, a list: the program, then its arguments, e.g. ["sort", "{input}"]';
    expect(problems({})).toEqual([shapes]);
    expect(problems({ command: 3 })).toEqual([shapes]);
    expect(problems({ command: [] })).toEqual(['command: must name at least the program, e.g. ["sort", "{input}"]']);
    expect(problems({ command: 'sort {input}' })).toEqual(['command: must be a template name: letters, digits, ".", "_" or "-", at most 64 characters']);
    expect(problems({ command: ['x', '{slot:n}'] })).toEqual(["command.1: {slot:n} belongs in a template of the fleet's exec policy; a raw command uses {param:n} and vars"]);
    expect(problems({ command: ['sort', '{inptu}'], stdin: 'file', maxStderrBytes: -1 })).toEqual([
      expect.stringMatching(/^command\.1: unknown placeholder \{inptu\}/),
      expect.stringMatching(/^stdin: /),
      expect.stringMatching(/^maxStderrBytes: /),
    ]);
    expect(problems({ command: ['sort', '{inptu}', '{param:nope}'] })).toEqual([
      expect.stringMatching(/^command\.1: unknown placeholder \{inptu\}/),
      'command.2: {param:nope} has no value: add "nope" to vars (params has no vars)',
    ]);
    expect(problems({ command: ['x'], cwd: '/etc' })).toEqual(['cwd: cannot be set: the command runs in a private scratch folder; write outputs under {outputDir}']);
    expect(problems({ command: ['x'], shell: true })).toEqual([expect.stringMatching(/shell/)]);
    expect(problems({ command: ['x'], stdoutFile: '../escape' })).toEqual([expect.stringMatching(/^stdoutFile: must be a relative file name/)]);
    expect(problems({ command: ['x'], env: { '1BAD': 'x' } })).toEqual([expect.stringMatching(/^env\.1BAD: environment variable names/)]);
    expect(problems({ command: [''] })).toEqual(['command: the program (first element) must not be empty']);
  });
});

describe('exec failures', () => {
  const end = { program: 'sort', exitCode: 2, signal: null, stderrTail: "sort: cannot read: 'x': No such file or directory" };

  test('a non-zero exit is retryable with the stderr tail in the message', () => {
    const err = commandFailure(end, [126, 127]);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(err).not.toBeInstanceOf(PermanentTaskError);
    expect(err.message).toBe("command 'sort' exited with code 2: sort: cannot read: 'x': No such file or directory");
  });

  test('an exit code listed in permanentExitCodes is permanent', () => {
    const err = commandFailure({ ...end, exitCode: 127 }, [126, 127]);
    expect(err).toBeInstanceOf(PermanentCommandFailedError);
    expect(err).toBeInstanceOf(PermanentTaskError);
  });

  test('a signal and an empty stderr are said in words', () => {
    expect(commandFailure({ ...end, exitCode: null, signal: 'SIGKILL', stderrTail: '' }, []).message).toBe("command 'sort' was killed by signal SIGKILL (no output on stderr)");
  });

  test('a long stderr is cut at its head so its end fits in the part error', () => {
    const stderr = `${'x'.repeat(5000)}THE END`;
    const msg = commandFailure({ ...end, stderrTail: stderr }, []).message;
    expect(msg.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(msg.startsWith("command 'sort' exited with code 2: …x")).toBe(true);
    expect(msg.endsWith('THE END')).toBe(true);
  });

  test('a stdout tail is cut at its head until its JSON encoding fits', () => {
    const binary = '\u0001'.repeat(8000) + 'END';
    const fitted = fitJson(binary, 8192);
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(8192);
    expect(fitted.endsWith('END')).toBe(true);
    expect(fitJson('short', 8192)).toBe('short');
  });

  test('Tail keeps the last bytes, and tailText starts on a character boundary', () => {
    const t = new Tail(5);
    for (const s of ['abc', 'defg', 'hijklmnop', 'q']) t.push(Buffer.from(s));
    expect(t.bytes().toString()).toBe('mnopq');
    expect(t.total).toBe(17);
    const euro = Buffer.from('€uro\n'); // € is 3 bytes
    expect(tailText(euro.subarray(1))).toBe('uro');
    expect(new Tail(0).bytes().length).toBe(0);
  });

  test('local names of inputs keep the key’s last segment and never escape their folder', () => {
    expect(localName('jobs/j/input/video.mp4')).toBe('video.mp4');
    expect(localName('jobs/j/stages/s/parts/3/')).toBe('3');
    expect(localName('..')).toBe('input');
    expect(localName('a/.')).toBe('input');
  });
});
