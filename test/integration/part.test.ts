import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGridClient } from '../../manager';
import { buildApp } from '../../manager/api';
import { partCommand } from '../../manager/cli/commands/part';
import { setClientFactory, type CliIo } from '../../manager/cli/render/io';
import { UNRESTRICTED_EXEC_POLICY } from '../../worker/builtin/exec-policy';
import { loadTaskModule } from '../../worker/load-tasks';
import { randomId, startEngine, type TestEngine } from '../support/engine';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, columns: 160, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const tasksModule = join(__dirname, '..', 'fixtures', 'poison-tasks.js');

/** `batchgrid part`: a part's attempts, inputs and outputs, and its replay on this machine. */
describe('batchgrid part', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let restore: Parameters<typeof setClientFactory>[0];
  let dir: string;
  let jobId: string;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(1, { concurrency: 4, tasks: loadTaskModule(tasksModule), execPolicy: UNRESTRICTED_EXEC_POLICY });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    restore = setClientFactory(async () => client);
    dir = await mkdtemp(join(tmpdir(), 'batchgrid-part-'));
    // Three records per file part; the middle part holds the poison one. Every stage tolerates a failed part.
    const tolerate = { failedParts: 1 };
    const retry = { attempts: 2, backoff: '1s' };
    const submitted = await engine.submit(
      {
        name: 'poisoned',
        input: { split: { by: 'lines', size: 3 } },
        stages: [
          { id: 'upper', task: 'lines.upper' },
          { id: 'check', task: 'test.poison', needs: 'upper', retry, tolerate },
          { id: 'shell', task: 'exec', needs: 'upper', retry: { attempts: 1 }, tolerate, params: { command: ['sh', '-c', 'if grep -q POISON "$1"; then echo "reading $1" >&2; echo "bad record in part $0" >&2; exit 4; fi; wc -l < "$1"', '{part}', '{input}'] } },
          { id: 'again', task: 'lines.upper', needs: 'upper', chain: 'stream' },
        ],
      },
      { 'in.txt': 'a\nb\nc\nd\npoison\nf\ng\nh\ni\n' },
    );
    jobId = submitted.jobId;
    expect((await submitted.handle.result()).status).toBe('succeeded');
  }, 180_000);

  afterAll(async () => {
    setClientFactory(restore);
    await client?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('every attempt of a failed part: worker, timings, error; its inputs; the succeeded neighbour with outputs and result', async () => {
    const failed = await client.part(jobId, 'check', 1);
    expect(failed).toMatchObject({ jobId, stageId: 'check', task: 'test.poison', part: 1, status: 'failed', outputs: [], inputs: [{ key: `jobs/${jobId}/stages/upper/parts/1/out.txt` }] });
    const message = 'poison record at line 2 of part 1: "POISON"';
    expect(failed.attempts.map((a) => [a.attempt, a.outcome, a.error?.type, a.error?.message, a.error?.retryable])).toEqual([
      [1, 'retried', 'RangeError', message, true],
      [2, 'failed', 'RangeError', message, true],
    ]);
    for (const a of failed.attempts) {
      expect(a.workerId).toMatch(/\S/);
      expect(a.startedAt!.getTime()).toBeGreaterThanOrEqual(a.sentAt!.getTime());
      expect(a.finishedAt!.getTime()).toBeGreaterThanOrEqual(a.startedAt!.getTime());
    }
    expect(failed.attempts[0]!.retryAt).not.toBeNull();

    const ok = await client.part(jobId, 'check', 0);
    expect(ok).toMatchObject({ status: 'succeeded', result: { records: 3 }, outputs: [{ key: `jobs/${jobId}/stages/check/parts/0/count.txt`, bytes: 2 }] });
    expect(ok.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'succeeded', error: null })]);

    // A succeeded part's row no longer stores its inputs (it is never sent again): they are read from
    // the stage manifest (an input or barrier stage), or are the upstream part's outputs (a stream stage).
    const stored = (await engine.db.pool.query(`SELECT stage_id, inputs, inputs_key FROM task_runs WHERE job_id = $1 AND part = 0 ORDER BY stage_id`, [jobId])).rows;
    expect(stored).toEqual(['again', 'check', 'shell', 'upper'].map((stage_id) => ({ stage_id, inputs: null, inputs_key: null })));
    const upperOut = { key: `jobs/${jobId}/stages/upper/parts/0/out.txt`, bytes: 6 };
    expect(ok.inputs).toEqual([upperOut]);
    expect((await client.part(jobId, 'again', 0)).inputs).toEqual([upperOut]);
    expect((await client.part(jobId, 'upper', 0)).inputs).toEqual([{ key: `jobs/${jobId}/input/in.txt`, start: 0, end: 6, bytes: 6 }]);
    expect((await client.part(jobId, 'upper', 0)).outputs).toEqual([upperOut]);

    const io = capture();
    expect(await partCommand(jobId, 'check', '1', {}, io)).toBe(0);
    expect(io.stdout).toContain(`job ${jobId}  stage check (task test.poison)  part 1: failed, 2 attempts`);
    expect(io.stdout).toMatch(/^\s*1\s+retried\s+\S+.*RangeError$/m);
    expect(io.stdout).toMatch(/^\s*2\s+failed\s+\S+.*RangeError$/m);
    expect(io.stdout).toContain(`attempt 2: RangeError (retryable)\n    ${message}`);
  });

  test("an exec part's stderr tail is shown, and the CLI names what does not exist", async () => {
    const shell = await client.part(jobId, 'shell', 1);
    expect(shell.attempts).toHaveLength(1);
    expect(shell.attempts[0]!.error).toMatchObject({ type: 'CommandFailedError', stderrTail: expect.stringMatching(/bad record in part 1$/) });
    const io = capture();
    expect(await partCommand(jobId, 'shell', '1', {}, io)).toBe(0);
    expect(io.stdout).toMatch(/stderr \(tail\):\n {4}reading .*\n {4}bad record in part 1/);

    const missing = capture();
    expect(await partCommand(jobId, 'nope', '0', {}, missing)).toBe(1);
    expect(missing.stderr).toBe(`batchgrid: job ${jobId} has no stage "nope": its stages are upper, check, shell, again\n`);
    const noPart = capture();
    expect(await partCommand(jobId, 'check', '7', {}, noPart)).toBe(1);
    expect(noPart.stderr).toContain('has no part 7');
    const bad = capture();
    expect(await partCommand(jobId, 'check', '-1', {}, bad)).toBe(1);
    expect(bad.stderr).toContain('part must be a whole number >= 0');
  });

  test('part --run reproduces the planted failure here with the same error; a good part writes its outputs locally', async () => {
    const out = join(dir, 'poison');
    const io = capture();
    expect(await partCommand(jobId, 'check', '1', { run: true, tasks: tasksModule, out }, io)).toBe(1);
    expect(io.stdout).toContain('error: RangeError (retryable): poison record at line 2 of part 1: "POISON"\nthe same error as on the fleet\n');
    expect(await readFile(join(out, 'inputs', '0-out.txt'), 'utf8')).toBe('D\nPOISON\nF\n');
    const report = JSON.parse(await readFile(join(out, 'part.json'), 'utf8'));
    expect(report.result).toMatchObject({ status: 'failed', attempt: 2, error: { type: 'RangeError' } });

    const good = join(dir, 'good');
    const okIo = capture();
    expect(await partCommand(jobId, 'check', '0', { run: true, tasks: tasksModule, out: good, json: true }, okIo)).toBe(0);
    const json = JSON.parse(okIo.stdout);
    expect(json.local).toMatchObject({ status: 'succeeded', result: { records: 3 } });
    expect(await readFile(join(good, 'outputs', 'count.txt'), 'utf8')).toBe('3\n');

    // The exec part: the same command, the same stderr, on this machine.
    const shellIo = capture();
    expect(await partCommand(jobId, 'shell', '1', { run: true, out: join(dir, 'shell'), execPolicy: 'unrestricted' }, shellIo)).toBe(1);
    expect(shellIo.stdout).toMatch(/error: CommandFailedError \(retryable\): command 'sh' exited with code 4: reading .*\nbad record in part 1\n/);
    expect(shellIo.stdout).toContain('the same error as on the fleet');

    const noTasks = capture();
    expect(await partCommand(jobId, 'check', '1', { run: true, out: join(dir, 'none') }, noTasks)).toBe(1);
    expect(noTasks.stdout).toContain("error: UnknownTaskError (not retryable): ");
    const misuse = capture();
    expect(await partCommand(jobId, 'check', '1', { tasks: tasksModule }, misuse)).toBe(1);
    expect(misuse.stderr).toContain('--tasks, --out and --exec-policy go with --run.');
  });

  test('GET /v1/jobs/{id}/stages/{stage}/parts/{part}: the same part, behind the token', async () => {
    const token = `part-test-token-${randomId()}${randomId()}`;
    const app = buildApp({ client, token });
    try {
      const r = await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/stages/check/parts/1`, headers: { authorization: `Bearer ${token}` } });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ part: 1, status: 'failed', attempts: [{ outcome: 'retried' }, { outcome: 'failed', error: { type: 'RangeError' } }] });
      expect((await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/stages/check/parts/1` })).statusCode).toBe(401);
      const missing = await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/stages/check/parts/9`, headers: { authorization: `Bearer ${token}` } });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toContain('has no part 9');
    } finally {
      await app.close();
    }
  });
});
