import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { PermanentTaskError } from '../../common/errors';
import { MAX_MESSAGE_BYTES } from '../../common/messages';
import { builtinTasks } from '../../worker/builtin';
import { InputNotFoundError, TaskTimeoutError, UnknownTaskError } from '../../worker/errors';
import { deadLetterBody } from '../../worker/fleet/dead-letter';
import { compileFleetWorkerOptions } from '../../worker/fleet/options';
import { exec } from '../../worker/builtin';
import { ExecParams } from '../../worker/builtin/exec';
import { compileExecPolicy } from '../../worker/builtin/exec-policy';
import { MAX_SUMMARY_BYTES, toErrorInfo, toSummary } from '../../worker/fleet/runner';
import { loadTaskModule } from '../../worker/load-tasks';
import { createTaskRegistry } from '../../worker/registry';
import { defineTask } from '../../worker/task';
import { rangeHeader } from '../../worker/task-context';

describe('defineTask and the registry', () => {
  it('defaults params to z.unknown() and refuses bad names', () => {
    const t = defineTask({ name: 'a.b', run: () => 1 });
    expect(t.params.safeParse({ anything: true }).success).toBe(true);
    expect(() => defineTask({ name: 'has space', run: () => 1 })).toThrow(/name must match/);
    expect(() => defineTask({ name: 'x', run: undefined as never })).toThrow(/needs a run/);
  });

  it('infers params from the schema', () => {
    const t = defineTask({ name: 'typed', params: z.object({ n: z.number() }), run: (_p, ctx) => ctx.params.n + 1 });
    expect(t.params.safeParse({ n: 'x' }).success).toBe(false);
  });

  it('refuses a name registered twice and lists names sorted', () => {
    expect(() => createTaskRegistry([...builtinTasks, defineTask({ name: 'noop', run: () => 0 })])).toThrow(/'noop' is registered twice/);
    const names = createTaskRegistry([defineTask({ name: 'b', run: () => 0 }), defineTask({ name: 'a', run: () => 0 })]).names;
    expect(names).toEqual(['a', 'b']);
    expect(createTaskRegistry(builtinTasks).names).toEqual(expect.arrayContaining(['lines.count', 'lines.upper', 'noop', 'test.sleep-fail']));
  });
});

describe('result and error shaping', () => {
  it('keeps small summaries as plain JSON and refuses large or unserialisable ones', () => {
    expect(toSummary({ a: 1, d: new Date(0) })).toEqual({ a: 1, d: '1970-01-01T00:00:00.000Z' });
    expect(toSummary(undefined)).toBeUndefined();
    expect(() => toSummary({ big: 'x'.repeat(MAX_SUMMARY_BYTES) })).toThrow(/over the limit of 16,384 bytes/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => toSummary(circular)).toThrow(PermanentTaskError);
  });

  it('classifies errors: permanent ones (and subclasses) are not retryable, the rest are', () => {
    expect(toErrorInfo(new PermanentTaskError('bad row'))).toEqual({ message: 'bad row', type: 'PermanentTaskError', retryable: false });
    expect(toErrorInfo(new UnknownTaskError('x', ['a', 'b']))).toEqual({
      message: "no handler registered for task 'x' on this worker (registered: a, b)", type: 'UnknownTaskError', retryable: false,
    });
    expect(toErrorInfo(new InputNotFoundError('bkt', 'k/1'))).toMatchObject({ retryable: false, message: expect.stringContaining("bucket 'bkt', key 'k/1'") });
    expect(toErrorInfo(new TaskTimeoutError(50))).toMatchObject({ type: 'TimeoutError', retryable: true });
    expect(toErrorInfo(new TypeError('oops'))).toEqual({ message: 'oops', type: 'TypeError', retryable: true });
    expect(toErrorInfo('a string')).toEqual({ message: 'a string', type: 'Error', retryable: true });
  });

  it('treats a PermanentTaskError from another copy of the class as permanent', () => {
    class PermanentTaskError extends Error {}
    class Custom extends PermanentTaskError {
      override name = 'Custom';
    }
    expect(toErrorInfo(new Custom('no'))).toMatchObject({ type: 'Custom', retryable: false });
  });

  it('truncates very long error messages', () => {
    expect(toErrorInfo(new Error('e'.repeat(10_000))).message.length).toBeLessThan(4100);
  });
});

describe('rangeHeader', () => {
  it('maps exclusive ends to inclusive HTTP ranges', () => {
    expect(rangeHeader({ key: 'k' })).toBeUndefined();
    expect(rangeHeader({ key: 'k', start: 10, end: 20 })).toBe('bytes=10-19');
    expect(rangeHeader({ key: 'k', start: 10 })).toBe('bytes=10-');
    expect(rangeHeader({ key: 'k', end: 5 })).toBe('bytes=0-4');
  });
});

describe('deadLetterBody', () => {
  it('keeps small bodies whole and cuts huge ones below the message limit', () => {
    const letter = { reason: 'r', body: 'b', queueUrl: 'q', workerId: 'w', at: 1 };
    expect(JSON.parse(deadLetterBody(letter))).toEqual(letter);
    const huge = deadLetterBody({ ...letter, body: '"\n'.repeat(200_000) });
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(JSON.parse(huge).body).toMatch(/truncated from 400000 characters/);
  });
});

describe('compileFleetWorkerOptions', () => {
  const base = { fleet: 'f', queuePrefix: 'bg', clients: {} as never, log: pino({ level: 'silent' }) };

  it('applies documented defaults', () => {
    const o = compileFleetWorkerOptions(base);
    expect(o).toMatchObject({ concurrency: 4, visibilityTimeoutSeconds: 60, waitTimeSeconds: 20, shutdownGraceMs: 30000, heartbeatIntervalMs: 10000, completionBatchMaxDelayMs: 200, ownClients: false });
    expect(o.registry.names).toContain('test.sleep-fail');
  });

  it('registers exec bound to the exec policy, or not at all', async () => {
    expect(compileFleetWorkerOptions(base).registry.get('exec')).toBe(exec);
    expect(compileFleetWorkerOptions({ ...base, execPolicy: 'none' }).registry.names).not.toContain('exec');
    const limited = compileFleetWorkerOptions({ ...base, execPolicy: compileExecPolicy({ kind: 'ExecPolicy', templates: { s: { program: 'sort' } } }, 'p.yaml') }).registry.get('exec')!;
    expect(limited).not.toBe(exec);
    const ctx = { params: ExecParams.parse({ command: ['rm', '-rf', '/tmp/x'] }), inputs: [], signal: new AbortController().signal } as never;
    await expect(limited.run({ jobId: 'j', stageId: 's', part: 0, attempt: 1, inputs: [], outputPrefix: 'p/' } as never, ctx)).rejects.toThrow(/refuses raw command lists on this fleet \(exec policy p\.yaml\): .*templates: s/);
  });

  it('refuses bad values with a sentence naming the option', () => {
    expect(() => compileFleetWorkerOptions({ ...base, concurrency: 0 })).toThrow('concurrency must be an integer between 1 and 1000 (got 0).');
    expect(() => compileFleetWorkerOptions({ ...base, waitTimeSeconds: 21 })).toThrow(/waitTimeSeconds must be/);
    expect(() => compileFleetWorkerOptions({ ...base, fleet: 'a b' })).toThrow(/fleet must be/);
    expect(() => compileFleetWorkerOptions({ ...base, fleet: 'a b', concurrency: 2.5, queuePrefix: 'x'.repeat(21) })).toThrow(
      `fleet must be 1–40 letters, digits, '-' or '_' (got "a b"). concurrency must be an integer between 1 and 1000 (got 2.5). queuePrefix must be at most 20 letters, digits, '-' or '_' (got "${'x'.repeat(21)}").`,
    );
  });

  it('takes the machine and its Auto Scaling group from the configuration', () => {
    const env = { BATCHGRID_QUEUE_PREFIX: 'cq', BATCHGRID_EXEC_POLICY: 'none', BATCHGRID_ASG_NAME: 'asg', BATCHGRID_ASG_LIFECYCLE_HOOK: 'drain' };
    const onEc2 = loadConfig({ ...env, BATCHGRID_INSTANCE_ID: 'i-0123456789abcdef0' });
    const { queuePrefix: _, ...noPrefix } = base;
    expect(compileFleetWorkerOptions(noPrefix, onEc2)).toMatchObject({ queuePrefix: 'cq', instanceId: 'i-0123456789abcdef0', asg: { groupName: 'asg', hookName: 'drain' } });
    const offEc2 = compileFleetWorkerOptions(base, loadConfig({ ...env, BATCHGRID_INSTANCE_ID: '' }));
    expect(offEc2.instanceId).toMatch(/^.+:\d+$/);
    expect(offEc2.asg).toBeUndefined();
    expect(compileFleetWorkerOptions({ ...base, asg: false }, onEc2).asg).toBeUndefined();
  });
});

describe('loadTaskModule', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-tasks-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);

  it('loads a default export, a tasks export or module.exports, relative to cwd', () => {
    // A plain object with the shape of a defineTask result stands in for the compiled helper.
    const def = `{ name: 'u.one', params: { safeParse: (v) => ({ success: true, data: v }) }, run: () => 1 }`;
    write('a.js', `exports.default = [${def}];`);
    write('b.js', `exports.tasks = [${def}];`);
    write('c.js', `module.exports = [${def}];`);
    for (const f of ['./a.js', './b.js', './c.js']) expect(loadTaskModule(f, dir).map((t) => t.name)).toEqual(['u.one']);
  });

  it('refuses TypeScript, missing modules and wrong exports with clear messages', () => {
    write('t.ts', 'export default [];');
    expect(() => loadTaskModule('./t.ts', dir)).toThrow(/TypeScript modules are not supported: compile it to JavaScript/);
    expect(() => loadTaskModule('./missing.js', dir)).toThrow(/no such module/);
    write('d.js', 'exports.foo = 1;');
    expect(() => loadTaskModule('./d.js', dir)).toThrow(/must export an array of defineTask/);
    write('e.js', 'exports.default = [{ name: 1 }];');
    expect(() => loadTaskModule('./e.js', dir)).toThrow(/item 0 of its task list is not a defineTask/);
  });
});
