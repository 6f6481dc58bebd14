import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelCommand, pauseCommand } from '../../manager/cli/commands/job-control';
import { jobsCommand } from '../../manager/cli/commands/jobs';
import { resultsCommand } from '../../manager/cli/commands/results';
import { retryCommand } from '../../manager/cli/commands/retry';
import { scheduleCreateCommand, scheduleDeleteCommand, scheduleListCommand } from '../../manager/cli/commands/schedule';
import { statusCommand } from '../../manager/cli/commands/status';
import { submitCommand } from '../../manager/cli/commands/submit';
import { watchJob } from '../../manager/cli/commands/watch';
import { setClientFactory, type CliIo } from '../../manager/cli/render/io';
import { BatchGridClient } from '../../manager';
import { createPool } from '../../store/db';
import { randomId, startEngine, type TestEngine } from '../support/engine';
import { waitForValue as waitFor } from '../support/stack';

/** Captured output of one command; not a terminal unless asked. */
function capture(tty = false): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: tty, columns: 120, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}


const yaml = (name: string, stage: string) => `apiVersion: batchgrid/v1\nkind: Pipeline\nname: ${name}\nconcurrency: 4\ninput:\n  split: { by: lines, size: 1 }\nstages:\n${stage}`;

/** The CLI commands on the real stack, through a client bound to this file's engine. */
describe('batchgrid CLI commands', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let dir: string;
  let restore: Parameters<typeof setClientFactory>[0];
  let input: string;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(1, { concurrency: 4 });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    restore = setClientFactory(async () => client);
    dir = await mkdtemp(join(tmpdir(), 'batchgrid-cli-'));
    input = join(dir, 'in.txt');
    await writeFile(input, 'a\nb\nc\n');
  }, 120_000);

  afterAll(async () => {
    setClientFactory(restore);
    await client?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('submit --wait (not a terminal): plain lines per change, exit 0; status, jobs and results', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, yaml('cli-ok', '  - id: upper\n    task: lines.upper\n'));
    const io = capture();
    expect(await submitCommand(file, { input, wait: true }, io)).toBe(0);
    expect(io.stderr).toBe('');
    const jobId = /^job (\S+) submitted: pipeline cli-ok$/m.exec(io.stdout)![1]!;
    expect(io.stdout).toContain(`follow it: batchgrid watch ${jobId}`);
    expect(io.stdout).toMatch(new RegExp(`^${jobId} upper: succeeded 3/3 done$`, 'm'));
    expect(io.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^${jobId}: succeeded after `));

    const status = capture();
    expect(await statusCommand(jobId, {}, status)).toBe(0);
    expect(status.stdout).toMatch(/^STAGE +TASK +STATUS +PARTS/m);
    expect(status.stdout).toMatch(/^upper +lines\.upper +succeeded +3 +100%/m);
    const statusJson = capture();
    expect(await statusCommand(jobId, { json: true }, statusJson)).toBe(0);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ job: { jobId, status: 'succeeded' }, progress: { stages: [{ stageId: 'upper', succeeded: 3 }] } });

    const jobs = capture();
    expect(await jobsCommand({ pipeline: 'cli-ok', json: true }, jobs)).toBe(0);
    expect(JSON.parse(jobs.stdout).jobs.map((j: { jobId: string }) => j.jobId)).toEqual([jobId]);
    const table = capture();
    expect(await jobsCommand({ pipeline: 'cli-ok' }, table)).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^JOB +PIPELINE +STATUS[^\\n]*\\n${jobId} +cli-ok +succeeded `));

    const target = join(dir, 'out');
    const results = capture();
    expect(await resultsCommand(jobId, { download: target }, results)).toBe(0);
    expect(results.stdout).toContain(`downloaded 3 files to ${target}`);
    expect(await readFile(join(target, 'upper', 'parts', '2', 'out.txt'), 'utf8')).toBe('C\n');
    const urls = capture();
    expect(await resultsCommand(jobId, { json: true, expires: '5m' }, urls)).toBe(0);
    expect(JSON.parse(urls.stdout).entries).toHaveLength(3);

    const again = capture();
    expect(await pauseCommand(jobId, again)).toBe(1);
    expect(again.stderr).toBe(`batchgrid: job ${jobId} already succeeded: nothing to pause\n`);
  });

  test('--json prints JSON only; a failed job exits 1, and retry says what it started', async () => {
    const file = join(dir, 'fail.yaml');
    await writeFile(file, yaml('cli-fail', '  - id: s\n    task: test.sleep-fail\n    params: { failParts: [1], permanent: true }\n'));
    const io = capture();
    expect(await submitCommand(file, { input, wait: true, json: true }, io)).toBe(1);
    const out = JSON.parse(io.stdout);
    expect(out).toMatchObject({ created: true, summary: { status: 'failed' } });

    const retry = capture();
    expect(await retryCommand(out.jobId, { wait: true }, retry)).toBe(1);
    expect(retry.stdout).toMatch(new RegExp(`^job \\S+ retries the failed parts of job ${out.jobId}$`, 'm'));
    expect(retry.stdout).toMatch(/: failed after /);
  });

  test('watch on a terminal redraws in place', async () => {
    const file = join(dir, 'tty.yaml');
    await writeFile(file, yaml('cli-tty', '  - id: slow\n    task: test.sleep-fail\n    params: { sleepMs: 400 }\n'));
    const submitted = capture();
    expect(await submitCommand(file, { input, json: true }, submitted)).toBe(0);
    const { jobId } = JSON.parse(submitted.stdout);
    const io = capture(true);
    const view = await watchJob(client, jobId, io, { intervalMs: 200 });
    expect(view.status).toBe('succeeded');
    // Every redraw after the first moves the cursor up over the previous one (2 lines) and clears it.
    expect(io.stdout).toContain('\x1b[2F\x1b[J');
    expect(io.stdout).toMatch(/slow +succeeded +█+ +3\/3 100%/);
  });

  test('errors: unknown job, bad definition, unreadable file, finished job, service down', async () => {
    const unknown = capture();
    expect(await statusCommand('nope', {}, unknown)).toBe(1);
    expect(unknown.stderr).toBe('batchgrid: job nope not found\n');
    expect(unknown.stdout).toBe('');

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: batchgrid/v1\nkind: Pipeline\nname: Bad\nstages:\n  - id: a\n    task: noop\n    needs: [zzz]\n');
    const io = capture();
    expect(await submitCommand(bad, { input }, io)).toBe(1);
    expect(io.stderr).toMatch(new RegExp(`^batchgrid: 2 problems in ${bad}:\\n  ${bad}:3: name: [^\\n]+\\n  ${bad}:7: stages\\[0\\]\\.needs\\[0\\]: `));

    const missing = capture();
    expect(await submitCommand(join(dir, 'nope.yaml'), { input }, missing)).toBe(1);
    expect(missing.stderr).toBe(`batchgrid: cannot read pipeline ${join(dir, 'nope.yaml')}: no such file\n`);

    const when = capture();
    expect(await submitCommand(bad, { input, startAt: 'tomorrow' }, when)).toBe(1);
    expect(when.stderr).toMatch(/invalid start time "tomorrow"/);

    const noInput = capture();
    const ok = join(dir, 'ok2.yaml');
    await writeFile(ok, yaml('cli-ok2', '  - id: n\n    task: noop\n'));
    expect(await submitCommand(ok, { input: join(dir, 'no-such-input') }, noInput)).toBe(1);
    expect(noInput.stderr).toBe(`batchgrid: input ${join(dir, 'no-such-input')} does not exist\n`);

    const cancelled = capture();
    expect(await cancelCommand('nope', cancelled)).toBe(1);

    // A Temporal that does not answer, then a Postgres that does not answer.
    for (const [factory, service] of [
      [() => BatchGridClient.connect({ db: engine.db.pool, temporalAddress: '127.0.0.1:1', connectTimeoutMs: 1000 }), 'Temporal'],
      [() => BatchGridClient.connect({ db: createPool('postgres://nobody@127.0.0.1:1/none', { connectionTimeoutMs: 1000 }) }), 'Postgres'],
    ] as const) {
      const previous = setClientFactory(factory);
      try {
        const down = capture();
        expect(await jobsCommand({}, down)).toBe(1);
        expect(down.stderr).toMatch(new RegExp(`^batchgrid: ${service} is not reachable at \\S+\\. Start the local stack with \`batchgrid dev up\``));
      } finally {
        setClientFactory(previous);
      }
    }
  });

  test('schedule create, list --json, delete', async () => {
    const id = randomId('c');
    const prefix = `cli-sched/${id}/`;
    await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `${prefix}x.txt`, Body: 'x\n' }));
    const file = join(dir, 'sched.yaml');
    await writeFile(file, yaml('cli-sched', '  - id: n\n    task: noop\n'));
    const created = capture();
    expect(await scheduleCreateCommand(id, file, { cron: '0 3 1 1 *', input: `s3://${engine.bucket}/${prefix}` }, created)).toBe(0);
    expect(created.stdout).toContain(`schedule ${id} created`);
    try {
      await waitFor('the schedule in the list', async () => {
        const io = capture();
        await scheduleListCommand({ json: true }, io);
        return (JSON.parse(io.stdout).schedules as { scheduleId: string }[]).some((s) => s.scheduleId === id);
      });
    } finally {
      const deleted = capture();
      expect(await scheduleDeleteCommand(id, deleted)).toBe(0);
    }
    const again = capture();
    expect(await scheduleDeleteCommand(id, again)).toBe(1);
    expect(again.stderr).toBe(`batchgrid: schedule ${id} not found\n`);
  });
});
