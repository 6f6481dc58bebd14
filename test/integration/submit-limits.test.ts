import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineValidationError } from '../../common/errors';
import { listObjects } from '../../common/s3-io';
import { BatchGridClient, JobIdTakenError, JobStartError } from '../../manager';
import { buildApp } from '../../manager/api';
import { defineTask } from '../../worker/task';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';

/** Returns a result of 20,000 bytes: over the fleet's limit for a part result. */
const bigResult = defineTask({ name: 'big.result', run: async () => ({ blob: 'x'.repeat(19_990) }) });

const TOKEN = `test-token-${randomId()}-${randomId()}`;
const auth = { authorization: `Bearer ${TOKEN}` };
const PARAMS_PROBLEM = "307,200 bytes, over the limit of 65,536 bytes (a task message must fit SQS's 256 KiB)";

/** A definition as written whose stage `b` has params of exactly 307,200 bytes. */
const bigParams = (name: string, bytes = 307_200) => ({
  apiVersion: 'batchgrid/v1',
  kind: 'Pipeline',
  name,
  stages: [
    { id: 'a', task: 'noop' },
    { id: 'b', task: 'noop', needs: ['a'], params: { blob: 'x'.repeat(bytes - 11) } },
  ],
});

describe('size limits and job id claims at the edge, against the real stack', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let dir: string;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(1, { concurrency: 4, tasks: [bigResult] });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    dir = await mkdtemp(join(tmpdir(), 'batchgrid-limits-'));
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A folder holding `files` (name → text). */
  const folder = async (name: string, files: Record<string, string>) => {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
    return path;
  };
  const inputKeys = async (jobId: string) => {
    const keys: string[] = [];
    for await (const o of listObjects(engine.aws.s3, engine.bucket, `jobs/${jobId}/input/`)) keys.push(o.key.slice(`jobs/${jobId}/input/`.length));
    return keys.sort();
  };
  const jobRow = async (jobId: string) => (await engine.db.pool.query(`SELECT status FROM jobs WHERE job_id = $1`, [jobId])).rows[0] as { status: string } | undefined;
  const noop = (name: string) => pipeline({ name, stages: [{ id: 'n', task: 'lines.count' }] });

  test('params of 300 KB: client submit refuses with the field path, records and uploads nothing', async () => {
    const input = await folder('big-params', { 'a.txt': 'a\n' });
    const jobId = randomId('bp');
    const refused = await client.submit(bigParams('limits-params'), { input, jobId }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PipelineValidationError);
    expect((refused as PipelineValidationError).problems).toEqual([{ path: 'stages[1].params', message: PARAMS_PROBLEM }]);
    // A compiled definition that skipped the compiler gets the same check.
    const compiled = { ...noop('limits-params'), stages: [{ ...noop('x').stages[0]!, params: { blob: 'x'.repeat(307_189) } }] };
    await expect(client.submit(compiled, { input, jobId })).rejects.toMatchObject({ problems: [{ path: 'stages[0].params', message: PARAMS_PROBLEM }] });
    expect(await jobRow(jobId)).toBeUndefined();
    expect(await inputKeys(jobId)).toEqual([]);
  });

  test('a workflow Temporal refuses to start is rolled back: no row, no input, and the id works again', async () => {
    const jobId = randomId('st');
    // A namespace Temporal does not know: its start is refused.
    const badTemporal = new Client({ connection: engine.temporal.connection, namespace: `no-such-namespace-${randomId()}` });
    const bad = await BatchGridClient.connect({ db: engine.db.pool, temporal: badTemporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    try {
      const first = await folder('start-first', { 'first.txt': 'one\n' });
      const err = await bad.submit(noop('limits-start'), { input: first, jobId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobStartError);
      expect((err as Error).message).toMatch(new RegExp(`^job ${jobId} could not be started: .*namespace.*; it was rolled back, so the id can be used again$`, 'i'));
    } finally {
      await bad.close();
    }
    expect(await jobRow(jobId)).toBeUndefined();
    expect(await inputKeys(jobId)).toEqual([]);

    const second = await folder('start-second', { 'second.txt': 'two\nlines\n' });
    const again = await client.submit(noop('limits-start'), { input: second, jobId });
    expect(again).toMatchObject({ jobId, created: true });
    expect(await inputKeys(jobId)).toEqual(['second.txt']);
    expect(await client.wait(jobId)).toMatchObject({ status: 'succeeded', results: 1 });
  });

  test('two submits with one id at once: one wins, the other is refused and uploads nothing', async () => {
    const jobId = randomId('race');
    const a = await folder('race-a', { 'a1.txt': 'a\n', 'a2.txt': 'aa\n' });
    const b = await folder('race-b', { 'b1.txt': 'b\n' });
    const def = noop('limits-race');
    const settled = await Promise.allSettled([client.submit(def, { input: a, jobId }), client.submit(def, { input: b, jobId })]);
    const won = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const winner = won[0]!;
    expect((settled[winner] as PromiseFulfilledResult<unknown>).value).toMatchObject({ jobId, created: true });
    const loser = settled[1 - winner] as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(JobIdTakenError);
    expect(loser.reason.message).toMatch(new RegExp(`^job id ${jobId} is already being submitted \\(or exists\\): .*; nothing uploaded$`));
    expect(await inputKeys(jobId)).toEqual(winner === 0 ? ['a1.txt', 'a2.txt'] : ['b1.txt']);

    // Afterwards: the winner's submit again is idempotent; the loser's is still refused.
    const [winnerInput, loserInput] = winner === 0 ? [a, b] : [b, a];
    expect(await client.submit(def, { input: winnerInput, jobId })).toMatchObject({ jobId, created: false });
    await expect(client.submit(def, { input: loserInput, jobId })).rejects.toThrow(/already being submitted \(or exists\): job .* exists with a different definition or input/);
    expect(await client.wait(jobId)).toMatchObject({ status: 'succeeded', results: winner === 0 ? 2 : 1 });
  });

  test('a claim left by a crashed submitter lapses; a live one holds', async () => {
    const claim = (jobId: string, age: string) =>
      engine.db.pool.query(`INSERT INTO job_claims (job_id, token, fingerprint, state, claimed_at) VALUES ($1, 'crashed', 'x', 'submitting', now() - $2::interval)`, [jobId, age]);
    const input = await folder('crash', { 'c.txt': 'c\n' });
    const stale = randomId('stale');
    await claim(stale, '10 minutes');
    expect(await client.submit(noop('limits-crash'), { input, jobId: stale })).toMatchObject({ jobId: stale, created: true });

    const live = randomId('live');
    await claim(live, '10 seconds');
    await expect(client.submit(noop('limits-crash'), { input, jobId: live })).rejects.toThrow(`job id ${live} is already being submitted (or exists): another submit holds it`);
    expect(await inputKeys(live)).toEqual([]);
    expect(await client.wait(stale)).toMatchObject({ status: 'succeeded' });
  });

  test('a handler returning an oversized result fails its part at once, not retryable, naming the limit', async () => {
    const input = await folder('big-result', { 'r.txt': 'r\n' });
    const def = pipeline({ name: 'limits-result', stages: [{ id: 'r', task: 'big.result', retry: { attempts: 3, backoff: '1s' } }] });
    const { jobId } = await client.submit(def, { input });
    expect(await client.wait(jobId)).toMatchObject({ status: 'failed' });
    const rows = (await engine.db.pool.query(`SELECT status, attempt, error FROM task_runs WHERE job_id = $1`, [jobId])).rows;
    expect(rows).toEqual([
      {
        status: 'failed',
        attempt: 1,
        error: {
          type: 'ResultTooLargeError',
          retryable: false,
          message: "the task's result: 20,001 bytes, over the limit of 16,384 bytes (a part result is a small summary; write larger data with ctx.writeOutput)",
        },
      },
    ]);
  });

  describe('POST /v1/jobs', () => {
    let app: FastifyInstance;
    let roomy: FastifyInstance;
    beforeAll(() => {
      app = buildApp({ client, token: TOKEN });
      // An operator who raised the body limit: the pipeline limits still hold.
      roomy = buildApp({ client, token: TOKEN, bodyLimitBytes: 8 * 2 ** 20 });
    });
    afterAll(async () => {
      await app?.close();
      await roomy?.close();
    });
    const input = () => `s3://${engine.bucket}/jobs/some-job/input/`;

    test('params of 300 KB: 400 with the field path, size and limit; no job row', async () => {
      const jobId = randomId('apibig');
      const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { pipeline: bigParams('limits-api'), input: input(), jobId } });
      expect([res.statusCode, res.json()]).toEqual([400, { error: 'invalid pipeline', problems: [{ path: 'stages[1].params', message: PARAMS_PROBLEM }] }]);
      expect(await jobRow(jobId)).toBeUndefined();
    });

    test('params of 3 MB: no job row; 400 naming the field and limit when the body limit lets it in, else 413', async () => {
      const jobId = randomId('api3m');
      const payload = { pipeline: bigParams('limits-api', 3_000_000), input: input(), jobId };
      const roomyRes = await roomy.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload });
      expect([roomyRes.statusCode, roomyRes.json()]).toEqual([400, { error: 'invalid pipeline', problems: [{ path: 'stages[1].params', message: PARAMS_PROBLEM.replace('307,200', '3,000,000') }] }]);
      const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload });
      expect(res.statusCode).toBe(413);
      expect(await jobRow(jobId)).toBeUndefined();
    });

    test('a job id another submit holds is a 409', async () => {
      const jobId = randomId('api409');
      await engine.db.pool.query(`INSERT INTO job_claims (job_id, token, fingerprint, state) VALUES ($1, 'other', 'x', 'submitting')`, [jobId]);
      await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `jobs/${jobId}/input/x.txt`, Body: 'x\n' }));
      const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { pipeline: { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'limits-api', stages: [{ id: 'n', task: 'noop' }] }, input: `s3://${engine.bucket}/jobs/${jobId}/input/`, jobId } });
      expect([res.statusCode, res.json().error]).toEqual([409, expect.stringContaining(`job id ${jobId} is already being submitted (or exists)`)]);
    });
  });
});
