import type { FastifyInstance } from 'fastify';
import { BatchGridClient } from '../../manager';
import { buildApp } from '../../manager/api';
import * as s from '../../manager/api/schemas';
import { randomId, startEngine, type TestEngine } from '../support/engine';

/**
 * The routes the web console reads (job filters with progress, parts, charts, validation, fleets)
 * against the real stack, through app.inject(); each answer checked against its documented schema.
 */
jest.setTimeout(120_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer; checked with its schema
type Json = any;

const TOKEN = `api-console-${randomId()}-${randomId()}`;
let engine: TestEngine;
let client: BatchGridClient;
let app: FastifyInstance;

async function get(url: string): Promise<{ status: number; body: Json }> {
  const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: r.statusCode, body: r.body ? r.json() : undefined };
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n');

let planted: string;
let other: string;

beforeAll(async () => {
  engine = await startEngine();
  await engine.startFleet(1, { concurrency: 4 });
  client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
  app = buildApp({ client, token: TOKEN });
  const job = (name: string, params: Record<string, unknown>, jobId: string) =>
    engine.submit(
      { name, concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params, retry: { attempts: 1 }, tolerate: { failedParts: 2 } }] },
      { 'in.txt': lines(7) },
      { jobId, options: { partsPerMessage: 1 } },
    );
  planted = randomId('planted-');
  other = randomId('other-');
  const a = await job('planted', { failParts: [2, 5], permanent: true }, planted);
  const b = await job('other', {}, other);
  await Promise.all([a.handle.result(), b.handle.result()]);
});

afterAll(async () => {
  await app?.close();
  await client?.close();
  await engine?.close();
});

test('GET /v1/jobs filters by id prefix and fleet, and carries per-stage progress when asked', async () => {
  const byId = await get(`/v1/jobs?q=${planted.slice(0, 10)}&progress=true`);
  expect(byId.status).toBe(200);
  s.JobPageBody.parse(byId.body);
  expect(byId.body.jobs.map((j: Json) => j.jobId)).toEqual([planted]);
  expect(byId.body.jobs[0].progress).toEqual([expect.objectContaining({ stageId: 'work', partsTotal: 7, succeeded: 5, failed: 2, done: 7, etaMs: 0 })]);
  expect((await get('/v1/jobs')).body.jobs[0].progress).toBeUndefined();
  expect((await get('/v1/jobs?fleet=default')).body.jobs).toHaveLength(2);
  expect((await get('/v1/jobs?fleet=elsewhere')).body.jobs).toEqual([]);
  const bad = await get('/v1/jobs?q=NOT%25AN%25ID&progress=yes');
  expect(bad.status).toBe(400);
  expect(bad.body.problems.map((p: Json) => p.path).sort()).toEqual(['query.progress', 'query.q']);
});

test('GET /v1/jobs/{id}/parts pages by cursor in part order, filters by stage and status, and shows errors', async () => {
  const seen: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const r = await get(`/v1/jobs/${planted}/parts?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    s.PartPageBody.parse(r.body);
    seen.push(...r.body.parts.map((p: Json) => p.part));
    cursor = r.body.nextCursor;
    if (!cursor) break;
  }
  expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  const failed = await get(`/v1/jobs/${planted}/parts?stage=work&status=failed,retry_wait`);
  expect(failed.body.parts.map((p: Json) => [p.part, p.status, p.attempt, p.error?.type])).toEqual([
    [2, 'failed', 1, 'PermanentTaskError'],
    [5, 'failed', 1, 'PermanentTaskError'],
  ]);
  expect(failed.body.parts[0]).toMatchObject({ workerId: expect.any(String), runTimeMs: expect.any(Number), queueWaitMs: expect.any(Number), error: { message: 'part 2 is in failParts' } });
  expect((await get(`/v1/jobs/${planted}/parts?stage=nowhere`)).body).toEqual({ parts: [] });
  expect((await get(`/v1/jobs/${planted}/parts?status=lost`)).body.problems[0].path).toBe('query.status');
  expect((await get(`/v1/jobs/${planted}/parts?cursor=garbage`)).status).toBe(400);
  expect((await get('/v1/jobs/no-such-job/parts')).status).toBe(404);
});

test('GET /v1/jobs/{id}/charts: every finished part is in the time series and both histograms', async () => {
  const r = await get(`/v1/jobs/${planted}/charts?buckets=20`);
  expect(r.status).toBe(200);
  s.ChartsBody.parse(r.body);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  expect(r.body.finished.map((f: Json) => [f.stageId, sum(f.counts)])).toEqual([['work', 7]]);
  expect(r.body.finished[0].counts).toHaveLength(r.body.times.length);
  expect(r.body.times.length).toBeLessThanOrEqual(20);
  expect(r.body.bucketMs).toBeGreaterThanOrEqual(1000);
  expect([sum(r.body.runTime.counts), sum(r.body.queueWait.counts)]).toEqual([7, 7]);
  expect(r.body.runTime.counts).toHaveLength(20);
  expect(r.body.workers).toHaveLength(1);
  expect((await get('/v1/jobs/no-such-job/charts')).status).toBe(404);
});

test('POST /v1/pipelines/validate lists every problem with its path and line, or the stages of a valid pipeline', async () => {
  const validate = async (pipeline: unknown) => {
    const r = await app.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: { authorization: `Bearer ${TOKEN}` }, payload: { pipeline } });
    s.ValidationBody.parse(r.json());
    return [r.statusCode, r.json()];
  };
  const text = ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: v', 'stages:', '  - id: a', '    task: noop', '  - id: b', '    task: noop', '    needs: [a, nowhere]', ''].join('\n');
  expect(await validate(text)).toEqual([200, { valid: false, problems: [expect.objectContaining({ path: 'stages[1].needs[1]', line: 9 })] }]);
  expect(await validate(text.replace(', nowhere', ''))).toEqual([
    200,
    { valid: true, problems: [], name: 'v', stages: [expect.objectContaining({ id: 'a', needs: [], chain: 'barrier' }), expect.objectContaining({ id: 'b', needs: ['a'] })] },
  ]);
  const [status, body] = await validate({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', stages: [] });
  expect(status).toBe(200);
  expect(body.valid).toBe(false);
  expect(body.problems.length).toBeGreaterThanOrEqual(1);
});

test('GET /v1/fleets lists the fleets the store knows; an unknown fleet is a 404', async () => {
  const list = await get('/v1/fleets');
  expect(list.status).toBe(200);
  s.FleetListBody.parse(list.body);
  expect(await get('/v1/fleets/no-such-fleet')).toEqual({ status: 404, body: { error: 'fleet no-such-fleet not found' } });
  expect((await get('/v1/fleets/Not_A_Name')).status).toBe(400);
});
