import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { compilePipeline } from '../../pipeline';
import { createExecTask } from '../../worker/builtin/exec';
import { compileExecPolicy, loadExecPolicyFile, UNRESTRICTED_EXEC_POLICY } from '../../worker/builtin/exec-policy';
import { randomId, startEngine, type TestEngine } from '../support/engine';

/** The built-in `exec` task end to end: real programs over real inputs on the real stack. */
describe('exec task end to end', () => {
  let engine: TestEngine;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-exec-test-'));
  // `exec` runs the templates of examples/exec, as a fleet started with --exec-policy would.
  const examplePolicyFile = path.join(__dirname, '../../examples/exec/exec-policy.yaml');
  // Every worker of this engine serves the same queue, so each registers the same variants:
  // raw argv on the unsafe single-user opt-in (to test how programs are run), test templates, and no policy at all.
  const raw = createExecTask({ name: 'exec.raw', policy: UNRESTRICTED_EXEC_POLICY });
  const testTemplates = createExecTask({
    name: 'exec.test',
    policy: compileExecPolicy(
      {
        kind: 'ExecPolicy',
        templates: {
          // A careless author: any text in a whole-argument slot. The option rule still holds.
          'sort-loose': { program: 'sort', args: ['-S', '1', '-o', '{outputDir}/out.txt', '{slot:what}', '{input}'], slots: { what: { type: 'string', pattern: '.*' } } },
          print: { program: 'printf', args: ['%s|%s', '{slot:text}', 'x{slot:text}'], slots: { text: { type: 'string', pattern: '[^\\n]*' } } },
        },
      },
      'exec.test policy',
    ),
  });
  const unconfigured = createExecTask({ name: 'exec.unconfigured' });

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4, execPolicy: loadExecPolicyFile(examplePolicyFile), tasks: [raw, testTemplates, unconfigured] });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const rows = async (jobId: string, stageId: string) =>
    (await engine.db.pool.query(`SELECT part, status, attempt, result, error, outputs FROM task_runs WHERE job_id = $1 AND stage_id = $2 ORDER BY part`, [jobId, stageId])).rows;

  test('templates of the fleet policy: sort each part, merge them (gather), take the head, count lines from stdin: exact outputs', async () => {
    const a = ['pear', 'apple', 'fig', 'Zebra', 'kiwi', 'banana', 'cherry'];
    const b = ['mango', 'date', 'lime'];
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-sort',
        input: { split: { by: 'lines', size: 3 } },
        stages: [
          { id: 'sort', task: 'exec', params: { command: 'sort-lines', slots: { output: 'part.txt' } } },
          { id: 'merge', task: 'exec', needs: ['sort'], gather: true, params: { command: 'merge-sorted' } },
          { id: 'head', task: 'exec', needs: ['merge'], params: { command: 'head-lines', slots: { lines: 4 }, stdoutFile: 'head.txt' } },
          { id: 'count', task: 'exec', needs: ['merge'], params: { command: 'count-lines', stdoutFile: 'count/lines.txt' } },
        ],
      },
      { 'a.txt': `${a.join('\n')}\n`, 'b.txt': `${b.join('\n')}\n` },
    );
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');

    // Parts are line ranges (byte ranges of the objects): a.txt gives 3+3+1 lines, b.txt 3.
    const sorted = await rows(jobId, 'sort');
    expect(sorted.map((r) => [r.status, r.result])).toEqual(Array.from({ length: 4 }, () => ['succeeded', { exitCode: 0, outputs: 1 }]));
    const partText = (part: number) => engine.readText(`jobs/${jobId}/stages/sort/parts/${part}/part.txt`);
    expect(await Promise.all([0, 1, 2, 3].map(partText))).toEqual(['apple\nfig\npear\n', 'Zebra\nbanana\nkiwi\n', 'cherry\n', 'date\nlime\nmango\n']);

    const all = [...a, ...b].sort(); // byte order, as the templates' LC_ALL=C sorts
    expect(await engine.readText(`jobs/${jobId}/stages/merge/parts/0/sorted.txt`)).toBe(`${all.join('\n')}\n`);
    expect(await engine.readText(`jobs/${jobId}/stages/head/parts/0/head.txt`)).toBe(`${all.slice(0, 4).join('\n')}\n`);
    expect((await rows(jobId, 'count'))[0].outputs).toEqual([{ key: `jobs/${jobId}/stages/count/parts/0/count/lines.txt`, bytes: 3 }]);
    expect(await engine.readText(`jobs/${jobId}/stages/count/parts/0/count/lines.txt`)).toBe('10\n');
  });

  test('examples/exec/pipeline.yaml runs as written', async () => {
    const r = compilePipeline(fs.readFileSync(path.join(__dirname, '../../examples/exec/pipeline.yaml'), 'utf8'), 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const words = ['delta', 'alpha', 'Charlie', 'bravo', 'echo', 'alpha'];
    const { jobId, handle } = await engine.submit(r.pipeline, { 'one.txt': `${words.slice(0, 4).join('\n')}\n`, 'two.txt': `${words.slice(4).join('\n')}\n` });
    expect((await handle.result()).status).toBe('succeeded');
    const merged = `${[...words].sort().join('\n')}\n`;
    expect(await engine.readText(`jobs/${jobId}/stages/merge/parts/0/sorted.txt`)).toBe(merged);
    expect(await engine.readText(`jobs/${jobId}/stages/count/parts/0/lines.txt`)).toBe('6\n');
    expect(await engine.readText(`jobs/${jobId}/stages/checksum/parts/0/sorted.sha256`)).toBe(`${createHash('sha256').update(merged).digest('hex')}  -\n`);
  });

  test('a failing command reports its exit code and stderr tail; permanent codes and missing programs are not retried', async () => {
    const tolerate = { failedParts: 1 };
    const retry = { attempts: 2, backoff: '1s' };
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-fail',
        stages: [
          { id: 'flaky', task: 'exec.raw', retry, tolerate, params: { command: ['sh', '-c', 'echo "line one of noise" >&2; echo "disk on fire: part $0" >&2; exit 3', '{part}'] } },
          { id: 'permanent', task: 'exec.raw', retry, tolerate, params: { command: ['sh', '-c', 'echo "bad input" >&2; exit 3'], permanentExitCodes: [3] } },
          { id: 'missing', task: 'exec.raw', retry, tolerate, params: { command: ['no-such-program-bg-exec', '{input}'] } },
          { id: 'tail', task: 'exec.raw', retry: { attempts: 1 }, tolerate, params: { command: ['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo "noise $i" >&2; i=$((i+1)); done; echo LAST >&2; exit 1'], maxStderrBytes: 64 } },
        ],
      },
      { 'in.txt': 'x\n' },
    );
    expect((await handle.result()).status).toBe('succeeded'); // each stage tolerates its one failed part

    const [flaky] = await rows(jobId, 'flaky');
    expect(flaky).toMatchObject({ status: 'failed', attempt: 2 });
    expect(flaky.error).toEqual({ type: 'CommandFailedError', retryable: true, message: "command 'sh' exited with code 3: line one of noise\ndisk on fire: part 0", stderrTail: 'line one of noise\ndisk on fire: part 0' });

    const [permanent] = await rows(jobId, 'permanent');
    expect(permanent).toMatchObject({ status: 'failed', attempt: 1 });
    expect(permanent.error).toEqual({ type: 'PermanentCommandFailedError', retryable: false, message: "command 'sh' exited with code 3: bad input", stderrTail: 'bad input' });

    const [missing] = await rows(jobId, 'missing');
    expect(missing).toMatchObject({ status: 'failed', attempt: 1 });
    expect(missing.error).toMatchObject({ type: 'ProgramNotFoundError', retryable: false, message: expect.stringMatching(/^program 'no-such-program-bg-exec' not found/) });

    const [tail] = await rows(jobId, 'tail');
    expect(tail.error.message).toMatch(/^command 'sh' exited with code 1: (.|\n)*noise 499\nLAST$/);
    expect(tail.error.message.length).toBeLessThan(120); // only the last 64 bytes of stderr
  });

  test('on timeout the whole process group is killed (grandchildren too) and the scratch folder removed', async () => {
    const pidFile = path.join(scratch, `${randomId('pids-')}.txt`);
    const script = [
      '(sleep 30 & echo $! >> "$1"; wait) &', // a grandchild in a subshell
      'echo $! >> "$1"',
      'echo $$ >> "$1"',
      'echo "$PWD" > "$1.dir"',
      'echo started > "$1.ready"',
      'wait',
    ].join('\n');
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-timeout',
        stages: [{ id: 'hang', task: 'exec.raw', timeout: '2s', retry: { attempts: 1 }, tolerate: { failedParts: 1 }, params: { command: ['sh', '-c', script, 'sh', '{param:pidFile}'], vars: { pidFile } } }],
      },
      { 'in.txt': 'x\n' },
    );
    expect((await handle.result()).status).toBe('succeeded');
    const [hang] = await rows(jobId, 'hang');
    expect(hang).toMatchObject({ status: 'failed', attempt: 1, error: { type: 'TimeoutError', retryable: true } });

    expect(fs.existsSync(`${pidFile}.ready`)).toBe(true);
    const pids = fs.readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(3);
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, () => `still alive: ${pids.filter(alive).join(', ')}`);
    const workDir = fs.readFileSync(`${pidFile}.dir`, 'utf8').trim();
    expect(path.basename(workDir)).toBe('work');
    await waitFor(() => !fs.existsSync(path.dirname(workDir)), 10_000, () => `${path.dirname(workDir)} still exists`);
  });

  test('shell metacharacters reach the program literally: nothing is executed', async () => {
    const marker = path.join(scratch, randomId('pwned-'));
    const injection = `; touch ${marker}-1 && echo $(touch ${marker}-2) \`touch ${marker}-3\` | tee ${marker}-4 > ${marker}-5 $HOME *`;
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-injection',
        stages: [
          { id: 'direct', task: 'exec.raw', params: { command: ['printf', '%s', injection], stdoutFile: 'arg.txt' } },
          { id: 'via-vars', task: 'exec.raw', params: { command: ['printf', '%s|%s', '{param:arg}', 'x{param:arg}'], vars: { arg: injection }, stdoutFile: 'arg.txt' } },
          { id: 'via-slot', task: 'exec.test', params: { command: 'print', slots: { text: `${injection} {input} {slot:text}` }, stdoutFile: 'arg.txt' } },
          { id: 'restricted', task: 'exec', params: { command: ['sh', '-c', `touch ${marker}-6`] }, tolerate: { failedParts: 1 } },
        ],
      },
      { 'in.txt': 'x\n' },
    );
    expect((await handle.result()).status).toBe('succeeded');
    expect(await engine.readText(`jobs/${jobId}/stages/direct/parts/0/arg.txt`)).toBe(injection);
    expect(await engine.readText(`jobs/${jobId}/stages/via-vars/parts/0/arg.txt`)).toBe(`${injection}|x${injection}`);
    const slotted = `${injection} {input} {slot:text}`; // a slot value is never expanded again
    expect(await engine.readText(`jobs/${jobId}/stages/via-slot/parts/0/arg.txt`)).toBe(`${slotted}|x${slotted}`);
    const [restricted] = await rows(jobId, 'restricted');
    expect(restricted.error).toMatchObject({ type: 'ExecRefusedError', retryable: false, message: expect.stringMatching(/^exec refuses raw command lists on this fleet \(exec policy .*exec-policy\.yaml\)/) });
    for (let i = 1; i <= 6; i += 1) expect(fs.existsSync(`${marker}-${i}`)).toBe(false);
  });

  test('an option smuggled in (sort --compress-program=sh) is refused before anything runs, and never retried', async () => {
    // sort pipes its temporary files through the compress program: with `sh`, every input line would run as a command.
    const marker = path.join(scratch, randomId('compress-'));
    const evil = `touch "${marker}"\n`.repeat(3000);
    const compress = ['sort', '-S', '1', '--compress-program=sh', '-o', '{outputDir}/out.txt', '{input}'];
    const once = { retry: { attempts: 2, backoff: '1s' }, tolerate: { failedParts: 1 } };
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-compress-program',
        stages: [
          { id: 'raw', task: 'exec', ...once, params: { command: compress } },
          { id: 'unconfigured', task: 'exec.unconfigured', ...once, params: { command: compress } },
          { id: 'slot', task: 'exec.test', ...once, params: { command: 'sort-loose', slots: { what: '--compress-program=sh' } } },
          { id: 'args', task: 'exec', ...once, params: { command: 'sort-lines', args: ['-S', '1', '--compress-program=sh'] } },
        ],
      },
      { 'evil.txt': evil },
    );
    expect((await handle.result()).status).toBe('succeeded'); // each stage tolerates its one failed part
    const refused = async (stage: string) => {
      const [row] = await rows(jobId, stage);
      expect(row).toMatchObject({ status: 'failed', attempt: 1 });
      return row.error;
    };
    expect(await refused('raw')).toEqual({ type: 'ExecRefusedError', retryable: false, message: expect.stringMatching(/^exec refuses raw command lists on this fleet \(exec policy .*exec-policy\.yaml\): name one of its templates .*templates: sort-lines, merge-sorted/) });
    expect(await refused('unconfigured')).toEqual({ type: 'ExecRefusedError', retryable: false, message: expect.stringMatching(/^exec refuses raw command lists: this fleet worker has no exec policy\. .*sets BATCHGRID_EXEC_POLICY \(or fleet-worker --exec-policy\)/) });
    expect(await refused('slot')).toEqual({ type: 'ExecRefusedError', retryable: false, message: expect.stringMatching(/^exec template 'sort-loose' slot 'what': "--compress-program=sh" looks like an option of the program/) });
    expect(await refused('args')).toEqual({ type: 'InvalidParamsError', retryable: false, message: "invalid params for task 'exec': args: cannot be set: a template's arguments are fixed by the fleet's exec policy; fill its slots instead" });
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('a pipeline cannot replace PATH (a fake sort never runs) nor set LD_PRELOAD or NODE_OPTIONS, even on an unrestricted fleet', async () => {
    const marker = path.join(scratch, randomId('fake-sort-'));
    const fakeBin = fs.mkdtempSync(path.join(scratch, 'bin-'));
    fs.writeFileSync(path.join(fakeBin, 'sort'), `#!/bin/sh\necho ran > "${marker}"\n`, { mode: 0o755 });
    const once = { retry: { attempts: 2, backoff: '1s' }, tolerate: { failedParts: 1 } };
    const { jobId, handle } = await engine.submit(
      {
        name: 'exec-env',
        stages: [
          { id: 'template', task: 'exec', ...once, params: { command: 'sort-lines', env: { PATH: fakeBin } } },
          { id: 'raw', task: 'exec.raw', ...once, params: { command: ['sort', '-o', '{outputDir}/out.txt', '{input}'], env: { PATH: fakeBin } } },
          { id: 'preload', task: 'exec.raw', ...once, params: { command: ['true'], env: { LD_PRELOAD: `${fakeBin}/evil.so`, NODE_OPTIONS: `--require ${fakeBin}/evil.js` } } },
          { id: 'undeclared', task: 'exec', ...once, params: { command: 'sort-lines', env: { LC_ALL: 'en_US.UTF-8' } } },
          { id: 'real', task: 'exec', params: { command: 'sort-lines' } },
        ],
      },
      { 'in.txt': 'b\na\n' },
    );
    expect((await handle.result()).status).toBe('succeeded');
    const failed = async (stage: string) => {
      const [row] = await rows(jobId, stage);
      expect(row).toMatchObject({ status: 'failed', attempt: 1 });
      return row.error;
    };
    const pathRefused = "env.PATH: PATH cannot be set from a pipeline: they choose what code the command runs or which credentials it uses (the engine sets PATH, HOME and TMPDIR itself)";
    expect(await failed('template')).toEqual({ type: 'InvalidParamsError', retryable: false, message: `invalid params for task 'exec': ${pathRefused}` });
    expect(await failed('raw')).toEqual({ type: 'InvalidParamsError', retryable: false, message: `invalid params for task 'exec.raw': ${pathRefused}` });
    expect((await failed('preload')).message).toMatch(/^invalid params for task 'exec.raw': env\.LD_PRELOAD: LD_\* variables cannot be set from a pipeline.*; env\.NODE_OPTIONS: NODE_\* variables cannot be set/);
    expect(await failed('undeclared')).toEqual({ type: 'ExecRefusedError', retryable: false, message: "exec template 'sort-lines' does not let a pipeline set env LC_ALL (it allows: none)" });
    expect(await engine.readText(`jobs/${jobId}/stages/real/parts/0/sorted.txt`)).toBe('a\nb\n'); // the policy's own sort
    expect(fs.existsSync(marker)).toBe(false);
  });
});

/** True while `pid` is a live process (a zombie waiting for its reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
