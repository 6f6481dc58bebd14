import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobNotFoundError, PermanentTaskError, PipelineValidationError } from '../../common/errors';
import { BatchGridClient, InvalidOptionError, JobInputError, JobStateError, ScheduleError, type UploadProgress } from '../../manager';
import { defineTask } from '../../worker/task';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';
import { waitForValue as waitFor } from '../support/stack';


/** Jobs whose `flaky.copy` parts must fail; every part it runs is recorded as `job/stage/part`. */
const failIn = new Set<string>();
const ran: string[] = [];

/** Copies its input lines to out.txt; fails (permanently) the parts in params.failParts of the jobs in `failIn`. */
const flakyCopy = defineTask({
  name: 'flaky.copy',
  async run(part, ctx) {
    ran.push(`${part.jobId}/${part.stageId}/${part.part}`);
    const failParts = (ctx.params as { failParts?: number[] }).failParts ?? [];
    if (failIn.has(part.jobId) && failParts.includes(part.part)) throw new PermanentTaskError(`part ${part.part} fails in job ${part.jobId}`);
    const lines: string[] = [];
    for await (const line of ctx.lines()) lines.push(line);
    await ctx.writeOutput('out.txt', `${lines.join('\n')}\n`);
    return { lines: lines.length };
  },
});

const lines = (n: number, tag = 'line') => Array.from({ length: n }, (_, i) => `${tag} ${i}`).join('\n');

describe('BatchGridClient against the real stack', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let dir: string;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4, tasks: [flakyCopy] });
    client = await BatchGridClient.connect({
      db: engine.db.pool,
      temporal: engine.temporal,
      aws: engine.aws,
      taskQueue: engine.taskQueue,
      bucket: engine.bucket,
      queuePrefix: engine.queuePrefix,
    });
    dir = await mkdtemp(join(tmpdir(), 'batchgrid-client-'));
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const taskRuns = async (jobId: string) =>
    (await engine.db.pool.query(`SELECT stage_id, part, status, attempt, sent_at, finished_at FROM task_runs WHERE job_id = $1 ORDER BY stage_id, part`, [jobId])).rows;
  const count = async (jobId: string, where = 'true') =>
    (await engine.db.pool.query(`SELECT count(*)::int AS n FROM task_runs WHERE job_id = $1 AND ${where}`, [jobId])).rows[0].n as number;

  test('submit a local folder from YAML text, then get, list, progress, wait and results (URLs and download)', async () => {
    const input = join(dir, 'in-folder');
    await mkdir(join(input, 'sub'), { recursive: true });
    await writeFile(join(input, 'a.txt'), 'alpha\nbeta\n');
    await writeFile(join(input, 'sub', 'b.txt'), 'gamma\n');
    const yaml = ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: client-basic', 'concurrency: 4', 'stages:', '  - id: upper', '    task: lines.upper', ''].join('\n');
    const progressCalls: UploadProgress[] = [];
    const jobId = randomId('c');

    const submitted = await client.submit(yaml, { input, jobId, onProgress: (p) => progressCalls.push(p) });
    expect(submitted).toEqual({ jobId, workflowId: `job-${jobId}`, status: expect.stringMatching(/scheduled|running/), created: true });
    // Relative paths are kept; every file reports its end.
    const keys = (await engine.db.pool.query(`SELECT input_prefix FROM jobs WHERE job_id = $1`, [jobId])).rows[0].input_prefix;
    expect(keys).toBe(`jobs/${jobId}/input/`);
    expect(await engine.readText(`jobs/${jobId}/input/sub/b.txt`)).toBe('gamma\n');
    expect(progressCalls.filter((p) => p.loaded === p.total).map((p) => p.file).sort()).toEqual([join(input, 'a.txt'), join(input, 'sub', 'b.txt')]);
    expect(progressCalls.find((p) => p.file.endsWith('b.txt'))).toMatchObject({ total: 6 });

    // Same id again: the same job, nothing uploaded.
    const again: UploadProgress[] = [];
    expect(await client.submit(yaml, { input, jobId, onProgress: (p) => again.push(p) })).toMatchObject({ jobId, created: false });
    expect(again).toEqual([]);

    const summary = await client.wait(jobId);
    expect(summary).toMatchObject({ jobId, status: 'succeeded', results: 2 });

    const job = await client.get(jobId);
    expect(job).toMatchObject({ jobId, pipelineName: 'client-basic', status: 'succeeded' });
    expect(job.stages.map((s) => [s.stageId, s.status, s.partsTotal])).toEqual([['upper', 'succeeded', 2]]);

    const progress = await client.progress(jobId);
    expect(progress.status).toBe('succeeded');
    expect(progress.stages).toEqual([
      expect.objectContaining({ stageId: 'upper', status: 'succeeded', partsTotal: 2, succeeded: 2, failed: 0, inFlight: 0, done: 2, etaMs: 0 }),
    ]);
    expect(progress.stages[0]!.throughput).toBeGreaterThan(0);

    const page = await client.list({ pipeline: 'client-basic' });
    expect(page.jobs.map((j) => j.jobId)).toEqual([jobId]);

    const withUrls = await client.results(jobId, { expiresInSeconds: 120 });
    expect(withUrls.entries.map((e) => e.part)).toEqual([0, 1]);
    const url = withUrls.entries[0]!.outputs[0]!.url!;
    expect(url).toContain('X-Amz-Signature');
    expect(await (await fetch(url)).text()).toBe('ALPHA\nBETA\n');

    const target = join(dir, 'results');
    const downloaded = await client.results(jobId, { download: target });
    expect(downloaded.download).toEqual({ dir: target, files: 2 });
    expect(await readFile(join(target, 'upper', 'parts', '1', 'out.txt'), 'utf8')).toBe('GAMMA\n');
    expect(downloaded.entries[1]!.outputs[0]!.path).toBe(join(target, 'upper', 'parts', '1', 'out.txt'));
  });

  test('an s3:// input is read in place; problems are reported with clear errors', async () => {
    const prefix = `shared/${randomId('in')}/`;
    await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `${prefix}x.txt`, Body: 'x\ny\n' }));
    const def = pipeline({ name: 'client-s3', stages: [{ id: 'count', task: 'lines.count' }] });

    // The prefix without its trailing slash is taken as the folder.
    const { jobId } = await client.submit(def, { input: `s3://${engine.bucket}/${prefix.slice(0, -1)}`, priority: 7 });
    expect((await client.get(jobId)).inputPrefix).toBe(prefix);
    // The submit's priority overrides the pipeline's (1 by default) and is recorded with the job.
    expect((await client.get(jobId)).priority).toBe(7);
    expect(await client.wait(jobId)).toMatchObject({ status: 'succeeded', results: 1 });

    await expect(client.submit(def, { input: `s3://another-bucket/${prefix}` })).rejects.toThrow(/bucket "another-bucket".*configured bucket/);
    await expect(client.submit(def, { input: `s3://${engine.bucket}/nothing-here/` })).rejects.toThrow(JobInputError);
    await expect(client.submit(def, { input: join(dir, 'no-such-folder') })).rejects.toThrow(/does not exist/);
    await expect(client.submit(def, { input: join(dir), jobId: 'Bad Id' })).rejects.toThrow(InvalidOptionError);
    await expect(client.submit(def, { input: join(dir), priority: 0 })).rejects.toThrow('priority 0 must be a whole number from 1 to 100');

    const bad = client.submit({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'Bad Name', stages: [{ id: 'a', task: 'noop', needs: ['zzz'] }] }, { input: dir });
    await expect(bad).rejects.toThrow(PipelineValidationError);
    await bad.catch((err: PipelineValidationError) => expect(err.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['name', 'stages[0].needs[0]'])));
    await expect(client.submit(join(dir, 'missing.yaml'), { input: dir })).rejects.toThrow(/cannot read pipeline .*missing\.yaml: no such file/);

    const unknown = [() => client.get('nope'), () => client.progress('nope'), () => client.wait('nope'), () => client.cancel('nope'), () => client.results('nope'), () => client.retryFailed('nope')];
    for (const call of unknown) await expect(call()).rejects.toThrow(JobNotFoundError);
    // A finished job cannot be controlled.
    await expect(client.pause(jobId)).rejects.toThrow(/already succeeded: nothing to pause/);
    await expect(client.cancel(jobId)).rejects.toThrow(JobStateError);
    await expect(client.retryFailed(jobId)).rejects.toThrow(/no failed parts/);
  });

  test('a large file goes up in parts (multipart), reporting progress as it goes', async () => {
    const big = join(dir, 'big.txt');
    const line = `${'x'.repeat(1023)}\n`;
    await writeFile(big, line.repeat(11 * 1024)); // 11 MiB: two 8 MiB-or-less parts
    const progressCalls: UploadProgress[] = [];
    const { jobId } = await client.submit(pipeline({ name: 'client-big', stages: [{ id: 'count', task: 'lines.count' }] }), { input: big, onProgress: (p) => progressCalls.push(p) });
    const loaded = progressCalls.map((p) => p.loaded);
    expect(loaded.length).toBeGreaterThan(1);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(progressCalls.at(-1)).toEqual({ file: big, loaded: 11 * 2 ** 20, total: 11 * 2 ** 20 });
    expect(await client.wait(jobId)).toMatchObject({ status: 'succeeded' });
    expect((await client.results(jobId)).entries[0]!.result).toEqual({ lines: 11 * 1024, chars: 11 * 1024 * 1023 });
  });

  test('list pages newest first with an opaque cursor and filters by status', async () => {
    const name = `client-list-${randomId()}`;
    const def = pipeline({ name, stages: [{ id: 'n', task: 'noop' }] });
    const input = join(dir, 'one.txt');
    await writeFile(input, 'one\n');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await client.submit(def, { input })).jobId);
    await Promise.all(ids.map((id) => client.wait(id)));

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.list({ pipeline: name, limit: 2, cursor });
      seen.push(...page.jobs.map((j) => j.jobId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
    expect((await client.list({ pipeline: name, status: 'failed' })).jobs).toEqual([]);
    expect((await client.list({ pipeline: name, status: ['succeeded'] })).jobs).toHaveLength(5);
    await expect(client.list({ cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });

  test('a delayed start: the job does not start before startAt', async () => {
    const input = join(dir, 'delayed.txt');
    await writeFile(input, 'a\nb\n');
    const startAt = new Date(Date.now() + 4000);
    const { jobId, status } = await client.submit(pipeline({ name: 'client-delayed', stages: [{ id: 'n', task: 'noop' }] }), { input, startAt });
    expect(status).toBe('scheduled');
    expect((await client.progress(jobId)).status).toBe('scheduled');
    await expect(client.pause(jobId)).rejects.toThrow(/has not started yet/);

    const summary = await client.wait(jobId);
    expect(summary.status).toBe('succeeded');
    const job = await client.get(jobId);
    // Postgres and this process share a clock here; allow for its millisecond rounding.
    expect(job.startedAt!.getTime()).toBeGreaterThanOrEqual(startAt.getTime() - 5);
    const firstSent = (await engine.db.pool.query(`SELECT min(sent_at) AS t FROM task_runs WHERE job_id = $1`, [jobId])).rows[0].t as Date;
    expect(firstSent.getTime()).toBeGreaterThanOrEqual(startAt.getTime() - 5);
  });

  test('a delayed job cancelled before it starts ends cancelled without running', async () => {
    const input = join(dir, 'never.txt');
    await writeFile(input, 'a\n');
    const { jobId } = await client.submit(pipeline({ name: 'client-never', stages: [{ id: 'n', task: 'noop' }] }), { input, startAt: new Date(Date.now() + 3_600_000) });
    await client.cancel(jobId);
    expect(await client.wait(jobId)).toMatchObject({ jobId, status: 'cancelled' });
    expect((await client.get(jobId)).status).toBe('cancelled');
    expect(await count(jobId)).toBe(0);
  });

  test('a cron schedule: created, listed, fired (trigger), its job runs; deleted', async () => {
    const scheduleId = randomId('s');
    const prefix = `sched/${scheduleId}/`;
    await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `${prefix}in.txt`, Body: 'one\ntwo\n' }));
    const name = `client-sched-${scheduleId}`;
    const def = pipeline({ name, stages: [{ id: 'count', task: 'lines.count' }] });

    await expect(client.createSchedule({ scheduleId, cron: '0 3 * * *', pipeline: def, input: dir })).rejects.toThrow(/reads its input from S3/);
    await expect(client.createSchedule({ scheduleId: 'Bad_Id', cron: '0 3 * * *', pipeline: def, input: `s3://${engine.bucket}/${prefix}` })).rejects.toThrow(InvalidOptionError);

    // Yearly: it never fires by itself during the test; trigger() makes it fire now.
    await client.createSchedule({ scheduleId, cron: '0 3 1 1 *', pipeline: def, input: `s3://${engine.bucket}/${prefix}` });
    await expect(client.createSchedule({ scheduleId, cron: '0 3 1 1 *', pipeline: def, input: `s3://${engine.bucket}/${prefix}` })).rejects.toThrow(/already exists/);
    try {
      const listed = await waitFor('the schedule to be listed', async () => (await client.listSchedules()).find((s) => s.scheduleId === scheduleId));
      expect(listed).toMatchObject({ cron: '0 3 1 1 *', pipeline: name, input: `s3://${engine.bucket}/${prefix}`, paused: false });
      expect(listed.nextRunAt[0]!.getUTCHours()).toBe(3);

      await client.triggerSchedule(scheduleId);
      const job = await waitFor('the scheduled job to be recorded', async () => (await client.list({ pipeline: name })).jobs[0]);
      expect(job.jobId).toMatch(new RegExp(`^sched-${scheduleId}-\\d{4}-\\d{2}-\\d{2}t`));
      expect(job.inputPrefix).toBe(prefix);
      expect(await client.wait(job.jobId)).toMatchObject({ status: 'succeeded', results: 1 });
      const results = await client.results(job.jobId);
      expect(results.entries[0]!.result).toEqual({ lines: 2, chars: 6 });
    } finally {
      await client.deleteSchedule(scheduleId);
    }
    await expect(client.deleteSchedule(scheduleId)).rejects.toThrow(ScheduleError);
    await waitFor('the schedule to leave the list', async () => !(await client.listSchedules()).some((s) => s.scheduleId === scheduleId));
  });

  test('cancel mid-stage: the job ends cancelled and no part is sent after', async () => {
    const input = join(dir, 'cancel.txt');
    await writeFile(input, lines(20));
    const def = pipeline({ name: 'client-cancel', concurrency: 2, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'slow', task: 'test.sleep-fail', params: { sleepMs: 1000 } }] });
    // A stage activity learns of a cancel from its heartbeat's reply, and the worker throttles heartbeats
    // to 80% of the heartbeat timeout (30 s by default): a short timeout makes the cancel take effect at once.
    const { jobId } = await client.submit(def, { input, jobOptions: { stageHeartbeatTimeoutMs: 3000 } });
    await waitFor('two parts done', async () => (await count(jobId, `status = 'succeeded'`)) >= 2);

    await client.cancel(jobId);
    const summary = await client.wait(jobId);
    expect(summary.status).toBe('cancelled');
    const job = await client.get(jobId);
    expect(job.status).toBe('cancelled');
    expect(job.stages[0]).toMatchObject({ stageId: 'slow', status: 'cancelled' });
    const rows = await taskRuns(jobId);
    expect(rows.length).toBeLessThan(20);
    // Nothing was sent once the stage recorded its cancellation.
    const lastSent = Math.max(...rows.map((r) => r.sent_at.getTime()));
    expect(lastSent).toBeLessThanOrEqual(job.stages[0]!.finishedAt!.getTime());
    expect(await count(jobId)).toBe(rows.length);
    await expect(client.resume(jobId)).rejects.toThrow(/already cancelled/);
  });

  test('pause and resume: while paused no part is sent, then the job completes', async () => {
    const input = join(dir, 'pause.txt');
    await writeFile(input, lines(16));
    const def = pipeline({ name: 'client-pause', concurrency: 2, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'slow', task: 'test.sleep-fail', params: { sleepMs: 500 } }] });
    const { jobId } = await client.submit(def, { input });
    await waitFor('two parts done', async () => (await count(jobId, `status = 'succeeded'`)) >= 2);

    await client.pause(jobId);
    await waitFor('the job to be paused', async () => (await client.progress(jobId)).status === 'paused');

    // Windows measured by another job on the same fleet and orchestrator running from start to
    // end (several pause checks of the paused stage each): the first lets the pause take effect,
    // during the second the paused job sends nothing.
    const sentinelInput = join(dir, 'sentinel.txt');
    await writeFile(sentinelInput, lines(3));
    const sentinel = pipeline({ name: 'client-sentinel', concurrency: 1, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 's', task: 'test.sleep-fail', params: { sleepMs: 700 } }] });
    const window = async () => expect(await client.wait((await client.submit(sentinel, { input: sentinelInput })).jobId)).toMatchObject({ status: 'succeeded' });
    await window();
    await waitFor('parts in flight to drain', async () => (await count(jobId, `status = 'queued'`)) === 0);
    const before = await taskRuns(jobId);
    expect(before.length).toBeLessThan(16);
    await window();
    expect(await taskRuns(jobId)).toEqual(before);
    expect((await client.progress(jobId)).status).toBe('paused');

    await client.resume(jobId);
    const summary = await client.wait(jobId);
    expect(summary.status).toBe('succeeded');
    expect(summary.stages[0]).toMatchObject({ partsTotal: 16, succeeded: 16 });
  });

  test('retryFailed runs only the failed parts (and what they feed) in a new job, touching no succeeded part of the parent', async () => {
    const input = join(dir, 'retry.txt');
    await writeFile(input, lines(5, 'row'));
    const def = pipeline({
      name: 'client-retry',
      concurrency: 4,
      input: { split: { by: 'lines', size: 1 } },
      stages: [
        { id: 'copy', task: 'flaky.copy', params: { failParts: [1, 3] }, retry: { attempts: 1 }, tolerate: { failedParts: 2 } },
        { id: 'upper', task: 'lines.upper', needs: ['copy'], chain: 'stream' },
      ],
    });
    const parentId = randomId('p');
    failIn.add(parentId);
    await client.submit(def, { input, jobId: parentId });
    await expect(client.retryFailed(parentId)).rejects.toThrow(/retry it once it has finished/);
    const parent = await client.wait(parentId);
    expect(parent.status).toBe('succeeded');
    expect(parent.stages.find((s) => s.stageId === 'copy')).toMatchObject({ partsTotal: 5, succeeded: 3, failed: 2 });
    const parentRows = await taskRuns(parentId);

    const retry = await client.retryFailed(parentId);
    expect(retry.jobId).not.toBe(parentId);
    const summary = await client.wait(retry.jobId);
    expect(summary.status).toBe('succeeded');

    const job = await client.get(retry.jobId);
    expect(job.parentJobId).toBe(parentId);
    // The stream stage ran as barrier in the retry job.
    expect(job.stages.map((s) => [s.stageId, s.mode, s.status, s.partsTotal])).toEqual(
      expect.arrayContaining([
        ['copy', 'input', 'succeeded', 2],
        ['upper', 'barrier', 'succeeded', 2],
      ]),
    );
    expect((await taskRuns(retry.jobId)).map((r) => `${r.stage_id}/${r.part}/${r.status}`)).toEqual(['copy/1/succeeded', 'copy/3/succeeded', 'upper/1/succeeded', 'upper/3/succeeded']);
    // Only parts 1 and 3 ran in the retry; the parent's rows are exactly as they were.
    expect(ran.filter((r) => r.startsWith(`${retry.jobId}/`)).sort()).toEqual([`${retry.jobId}/copy/1`, `${retry.jobId}/copy/3`]);
    expect(await taskRuns(parentId)).toEqual(parentRows);

    const results = await client.results(retry.jobId);
    expect(results.entries.map((e) => [e.stage, e.part])).toEqual([
      ['upper', 1],
      ['upper', 3],
    ]);
    expect(await engine.readText(`jobs/${retry.jobId}/stages/upper/parts/3/out.txt`)).toBe('ROW 3\n');

    // Idempotent on the retry job's id.
    const again = await client.retryFailed(parentId, { jobId: randomId('r') });
    expect(await client.retryFailed(parentId, { jobId: again.jobId })).toMatchObject({ jobId: again.jobId, created: false });
    await client.wait(again.jobId);
  });
});
