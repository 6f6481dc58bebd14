import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { config } from '../../common/config';
import { distPath } from '../../common/paths';
import { BatchGridClient } from '../../manager';
import { apiRoutes, buildApp, openApiPath } from '../../manager/api';
import * as s from '../../manager/api/schemas';
import { createPool } from '../../store/db';
import { randomId, startEngine, type TestEngine } from '../support/engine';
import { waitForValue as waitFor } from '../support/stack';


// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer; the tests check its shape (often with its documented schema)
type Json = any;

const TOKEN = `test-token-${randomId()}-${randomId()}`;
const auth = { authorization: `Bearer ${TOKEN}` };

/** A YAML pipeline: one line per part, upper-cased. */
const upperYaml = (name: string) =>
  ['apiVersion: batchgrid/v1', 'kind: Pipeline', `name: ${name}`, 'concurrency: 4', 'input:', '  split: { by: lines, size: 1 }', 'stages:', '  - id: upper', '    task: lines.upper', ''].join('\n');

/** A concrete URL for a route: parameters filled with well-formed values. */
const sampleUrl = (url: string) => url.replace(':id', url.startsWith('/v1/schedules') ? 'some-schedule' : 'some-job').replace('*', 'a/b.txt');

describe('HTTP API against the real stack', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 4 });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    app = buildApp({ client, token: TOKEN });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await client?.close();
    await engine?.close();
  });

  /** fetch on the listening server with the token; the JSON body parsed (undefined when empty). */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: Json; headers: Headers }> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = typeof body === 'string' ? 'text/plain' : 'application/json';
    }
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  }

  /** Parses an answer with its documented schema: the OpenAPI document tells the truth. */
  const conforms = <T extends z.ZodType>(schema: T, body: unknown) => schema.parse(body);

  test('every /v1 route answers 401 { error: "unauthorized" } without the token or with a wrong one; /healthz needs none', async () => {
    const v1 = apiRoutes.filter((r) => r.url.startsWith('/v1'));
    expect(v1.length).toBeGreaterThanOrEqual(15);
    // Public: the probe, and sign-in (its token travels in the body; test/integration/console.test.ts).
    expect(apiRoutes.filter((r) => r.public === true).map((r) => `${r.method} ${r.url}`)).toEqual(['GET /healthz', 'POST /v1/session']);
    const wrong = [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, { authorization: TOKEN }, { authorization: 'Bearer ' }];
    for (const route of v1.filter((r) => r.public !== true)) {
      for (const headers of wrong) {
        const r = await app.inject({ method: route.method, url: sampleUrl(route.url), headers, ...(route.method === 'POST' || route.method === 'PUT' ? { payload: {} } : {}) });
        expect([route.method, route.url, r.statusCode, r.json()]).toEqual([route.method, route.url, 401, { error: 'unauthorized' }]);
      }
    }
    // Unknown /v1 paths too: no hint whether a route (or a job) exists.
    expect((await app.inject({ method: 'GET', url: '/v1/nope' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs/no-such-job' })).json()).toEqual({ error: 'unauthorized' });
    expect((await app.inject({ method: 'GET', url: '/v1/nope', headers: auth })).json()).toEqual({ error: 'not found' });
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok' }]);
  });

  test('GET /v1/openapi.json: an OpenAPI 3.1 document of every route, from the zod schemas', async () => {
    const { status, body: doc } = await call('GET', '/v1/openapi.json');
    expect(status).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const route of apiRoutes) {
      const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(op).toEqual(expect.objectContaining({ operationId: route.operationId }));
      if (route.public !== true) expect(op.responses['401']).toBeDefined();
    }
    const submit = doc.paths['/v1/jobs'].post;
    expect(submit.requestBody.content['application/json'].schema).toEqual(
      expect.objectContaining({ type: 'object', required: ['pipeline', 'input'], additionalProperties: false, properties: expect.objectContaining({ startAt: expect.objectContaining({ format: 'date-time' }) }) }),
    );
    expect(doc.paths['/v1/jobs/{id}/input/{path}'].put.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'path']);
    expect(doc.paths['/v1/jobs'].get.parameters.map((p: { name: string; required: boolean }) => [p.name, p.required])).toEqual([
      ['pipeline', false],
      ['status', false],
      ['fleet', false],
      ['q', false],
      ['progress', false],
      ['limit', false],
      ['cursor', false],
    ]);
    expect(doc.paths['/v1/jobs/{id}/report'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/JobReport' });
    expect(doc.components.schemas.JobReport.properties.runTimeMs).toBeDefined();
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  test('400 lists every problem of params, query and body with its path', async () => {
    const bad = await call('POST', '/v1/jobs', { pipeline: 5, input: '/etc/passwd', jobId: 'Bad Id', startAt: 'tomorrow', priority: 101, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid request');
    expect(bad.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(['body', 'body.input', 'body.jobId', 'body.pipeline', 'body.priority', 'body.startAt']);
    expect(bad.body.problems).toContainEqual({ path: 'body', message: 'Unrecognized key: "extra"' });
    expect(Object.keys(bad.body)).toEqual(['error', 'problems']);

    const tune = await call('POST', '/v1/jobs/some-job/tune', { concurrency: 0, speed: 'fast' });
    expect(tune.status).toBe(400);
    expect(tune.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(['body', 'body.concurrency']);
    expect((await call('POST', '/v1/jobs/some-job/tune', {})).body.problems).toEqual([{ path: 'body', message: 'give at least one of concurrency, priority, tolerate' }]);

    const missing = await call('POST', '/v1/jobs', {});
    expect(missing.body.problems).toEqual([
      { path: 'body.pipeline', message: 'required' },
      { path: 'body.input', message: 'required' },
    ]);
    const query = await call('GET', '/v1/jobs?limit=0&status=running,bogus&color=red');
    expect(query.status).toBe(400);
    expect(query.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(['query', 'query.limit', 'query.status']);
    const params = await call('GET', '/v1/jobs/Not_A_Job/report?slowest=-1');
    expect(params.body.problems.map((p: { path: string }) => p.path)).toEqual(['params.id', 'query.slowest']);
    const empty = await app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'application/json' } });
    expect(empty.json()).toEqual({ error: 'invalid request', problems: [{ path: 'body', message: 'required' }] });
    const notJson = await app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"pipeline":' });
    expect([notJson.statusCode, notJson.json().error, notJson.json().problems[0].path]).toEqual([400, 'invalid request', 'body']);
    const path = await app.inject({ method: 'PUT', url: '/v1/jobs/some-job/input/a//b.txt', headers: auth, payload: 'x' });
    expect([path.statusCode, path.json()]).toEqual([400, { error: 'input path "a//b.txt" must be a relative path of names separated by single slashes, without . or .. segments' }]);
    // URLs normalise `..` away before the server sees them; a caller of the client gets the same check.
    await expect(client.uploadInput('some-job', 'a/../../b.txt', Readable.from([]))).rejects.toThrow(/must be a relative path/);
  });

  test('an invalid pipeline is a 400 with every problem of the pipeline, its path and YAML line', async () => {
    const yaml = ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: broken', 'stages:', '  - id: a', '    task: lines.upper', '    needs: [nowhere]', '  - id: b', ''].join('\n');
    const r = await call('POST', '/v1/jobs', { pipeline: yaml, input: `s3://${engine.bucket}/anything/` });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid pipeline');
    expect(r.body.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'stages[0].needs[0]', line: 7 }), expect.objectContaining({ path: 'stages[1].task' })]),
    );
    const obj = await call('POST', '/v1/jobs', { pipeline: { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'x', stages: [{ id: 'a' }] }, input: `s3://${engine.bucket}/x/` });
    expect([obj.status, obj.body.error, obj.body.problems[0].path]).toEqual([400, 'invalid pipeline', 'stages[0].task']);
    // Pipeline text is never taken for a file name on the server.
    const file = await call('POST', '/v1/jobs', { pipeline: '/etc/passwd', input: `s3://${engine.bucket}/x/` });
    expect([file.status, file.body.error]).toEqual([400, 'invalid pipeline']);
  });

  test('404 { error: "job X not found" } for an unknown job on every job route; 404 for an unknown schedule', async () => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/no-such-job'],
      ['GET', '/v1/jobs/no-such-job/progress'],
      ['GET', '/v1/jobs/no-such-job/results'],
      ['GET', '/v1/jobs/no-such-job/report'],
      ['POST', '/v1/jobs/no-such-job/cancel'],
      ['POST', '/v1/jobs/no-such-job/pause'],
      ['POST', '/v1/jobs/no-such-job/resume'],
      ['POST', '/v1/jobs/no-such-job/retry'],
    ] as const) {
      const r = await call(method, path);
      expect([method, path, r.status, r.body]).toEqual([method, path, 404, { error: 'job no-such-job not found' }]);
    }
    // A bare POST with a JSON content type and no body is fine.
    const bare = await app.inject({ method: 'POST', url: '/v1/jobs/no-such-job/cancel', headers: { ...auth, 'content-type': 'application/json' } });
    expect([bare.statusCode, bare.json()]).toEqual([404, { error: 'job no-such-job not found' }]);
    const del = await call('DELETE', '/v1/schedules/no-such-schedule');
    expect([del.status, del.body]).toEqual([404, { error: 'schedule no-such-schedule not found' }]);
    expect((await call('POST', '/v1/schedules/no-such-schedule/trigger')).status).toBe(404);
  });

  test('upload → submit → progress → results → report over a listening server; every answer matches its schema', async () => {
    const jobId = randomId('api');
    const put = async (path: string, text: string): Promise<{ status: number; body: Json }> => {
      const res = await fetch(`${base}/v1/jobs/${jobId}/input/${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: text });
      return { status: res.status, body: await res.json() };
    };
    const a = await put('lines/a.txt', 'alpha\nbeta\ngamma\n');
    expect(a).toEqual({ status: 201, body: { jobId, key: `jobs/${jobId}/input/lines/a.txt`, bytes: 17, input: `s3://${engine.bucket}/jobs/${jobId}/input/` } });
    conforms(s.UploadedBody, a.body);
    expect((await put('b.txt', 'delta\n')).status).toBe(201);

    const submitted = await call('POST', '/v1/jobs', { pipeline: upperYaml('api-flow'), input: a.body.input, jobId });
    expect(submitted.status).toBe(201);
    expect(conforms(s.SubmitResultBody, submitted.body)).toEqual({ jobId, workflowId: `job-${jobId}`, status: expect.any(String), created: true });
    const again = await call('POST', '/v1/jobs', { pipeline: upperYaml('api-flow'), input: a.body.input, jobId });
    expect([again.status, again.body.created]).toEqual([200, false]);
    // The input of a submitted job is fixed.
    const late = await put('c.txt', 'late\n');
    expect([late.status, late.body.error]).toEqual([409, expect.stringMatching(/already exists/)]);

    const done = await waitFor('the job to succeed', async () => {
      const p = await call('GET', `/v1/jobs/${jobId}/progress`);
      expect(p.status).toBe(200);
      conforms(s.ProgressBody, p.body);
      return p.body.status === 'succeeded' && p.body;
    });
    expect(done.stages).toEqual([expect.objectContaining({ stageId: 'upper', partsTotal: 4, succeeded: 4, failed: 0, done: 4 })]);

    const job = await call('GET', `/v1/jobs/${jobId}`);
    expect(conforms(s.JobDetailsBody, job.body)).toMatchObject({ jobId, pipelineName: 'api-flow', status: 'succeeded', inputPrefix: `jobs/${jobId}/input/` });
    expect(job.body.stages.map((x: { stageId: string; status: string }) => [x.stageId, x.status])).toEqual([['upper', 'succeeded']]);

    const list = await call('GET', '/v1/jobs?pipeline=api-flow&status=succeeded,failed&limit=1');
    expect(conforms(s.JobPageBody, list.body).jobs.map((j) => j.jobId)).toEqual([jobId]);

    const results = await call('GET', `/v1/jobs/${jobId}/results?expiresInSeconds=600`);
    expect(results.status).toBe(200);
    const entries = conforms(s.ResultsBody, results.body).entries;
    expect(entries).toHaveLength(4);
    const texts = await Promise.all(entries.map(async (e) => (await fetch(e.outputs[0]!.url!)).text()));
    expect(texts.sort()).toEqual(['ALPHA\n', 'BETA\n', 'DELTA\n', 'GAMMA\n']);

    const report = await call('GET', `/v1/jobs/${jobId}/report?slowest=2`);
    expect(report.status).toBe(200);
    const r = conforms(s.ReportBody, report.body);
    expect(r).toMatchObject({ jobId, status: 'succeeded', parts: 4, succeeded: 4, failed: 0 });
    expect(r.slowest).toHaveLength(2);
    expect(r.workers.reduce((n, w) => n + w.parts, 0)).toBe(4);

    // Retrying a job without failed parts is refused with its status.
    const retry = await call('POST', `/v1/jobs/${jobId}/retry`);
    expect([retry.status, retry.body]).toEqual([409, { error: `job ${jobId} has no failed parts: nothing to retry`, status: 'succeeded' }]);
  });

  test('pause, resume and cancel a running job; results of an unfinished job and a second cancel are 409', async () => {
    const jobId = randomId('apc');
    const up = await app.inject({ method: 'PUT', url: `/v1/jobs/${jobId}/input/in.txt`, headers: auth, payload: 'one\ntwo\n' });
    expect(up.statusCode).toBe(201);
    const pipeline = { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'api-cancel', input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'slow', task: 'test.sleep-fail', params: { sleepMs: 20_000 } }] };
    expect((await call('POST', '/v1/jobs', { pipeline, input: up.json().input, jobId })).status).toBe(201);
    await waitFor('a part in flight', async () => (await call('GET', `/v1/jobs/${jobId}/progress`)).body.stages[0].inFlight > 0);

    const early = await call('GET', `/v1/jobs/${jobId}/results`);
    expect([early.status, early.body.status]).toEqual([409, 'running']);
    for (const action of ['pause', 'resume', 'cancel'] as const) {
      const r = await call('POST', `/v1/jobs/${jobId}/${action}`);
      expect([r.status, conforms(s.AcceptedBody, r.body)]).toEqual([202, { jobId, action }]);
    }
    await waitFor('the job to be cancelled', async () => (await call('GET', `/v1/jobs/${jobId}`)).body.status === 'cancelled');
    const twice = await call('POST', `/v1/jobs/${jobId}/cancel`);
    expect([twice.status, twice.body]).toEqual([409, { error: `job ${jobId} already cancelled: nothing to cancel`, status: 'cancelled' }]);
  });

  test('schedules: create (201), taken id (409), list, delete (204), delete again (404)', async () => {
    const scheduleId = `s${randomId()}`;
    const prefix = `sched/${scheduleId}/`;
    const body = { scheduleId, cron: '0 3 1 1 *', pipeline: upperYaml('api-sched'), input: `s3://${engine.bucket}/${prefix}` };
    const created = await call('POST', '/v1/schedules', body);
    expect([created.status, conforms(s.ScheduleCreatedBody, created.body)]).toEqual([201, { scheduleId }]);
    const taken = await call('POST', '/v1/schedules', body);
    expect([taken.status, taken.body.error]).toEqual([409, `schedule ${scheduleId} already exists: delete it first to replace it`]);
    const listed = await waitFor('the schedule to be listed', async () => {
      const r = await call('GET', '/v1/schedules');
      return conforms(s.ScheduleListBody, r.body).schedules.find((x) => x.scheduleId === scheduleId);
    });
    expect(listed).toMatchObject({ cron: '0 3 1 1 *', pipeline: 'api-sched', input: `s3://${engine.bucket}/${prefix}`, paused: false });
    const badId = await call('POST', '/v1/schedules', { ...body, scheduleId: 'Bad_Id', input: 'local/folder' });
    expect(badId.body.problems.map((p: { path: string }) => p.path)).toEqual(['body.scheduleId', 'body.input']);
    const del = await call('DELETE', `/v1/schedules/${scheduleId}`);
    expect([del.status, del.body]).toEqual([204, undefined]);
    expect((await call('DELETE', `/v1/schedules/${scheduleId}`)).status).toBe(404);
  });

  test('a service that stops answering is a 503 naming it; an unexpected error is a 500 without details', async () => {
    // Postgres behind a proxy the test can pull.
    const sockets = new Set<Socket>();
    const pg = new URL(config().DATABASE_URL);
    const proxy: Server = createServer((inbound) => {
      const outbound = connect(Number(pg.port || 5432), pg.hostname);
      for (const sock of [inbound, outbound]) {
        sockets.add(sock);
        sock.on('error', () => undefined);
        sock.on('close', () => sockets.delete(sock));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = new URL(pg);
    proxied.hostname = '127.0.0.1';
    proxied.port = String((proxy.address() as { port: number }).port);
    const db = createPool(proxied.toString(), { schema: engine.db.schema, max: 2, connectionTimeoutMs: 2000 });
    const shaky = await BatchGridClient.connect({ db, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    const shakyApp = buildApp({ client: shaky, token: TOKEN });
    try {
      expect((await shakyApp.inject({ method: 'GET', url: '/v1/jobs', headers: auth })).statusCode).toBe(200);
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
      const down = await waitFor('Postgres to be seen down', async () => {
        const r = await shakyApp.inject({ method: 'GET', url: '/v1/jobs', headers: auth });
        return r.statusCode === 503 && r;
      });
      expect(down.json()).toEqual({ error: 'service unavailable: Postgres', service: 'Postgres' });
      expect(down.headers['retry-after']).toBe('5');
      const health = await shakyApp.inject({ method: 'GET', url: '/healthz' });
      expect([health.statusCode, health.json()]).toEqual([503, { error: 'service unavailable: Postgres', service: 'Postgres' }]);
    } finally {
      await shakyApp.close();
      await shaky.close();
      await db.end().catch(() => undefined);
    }

    const broken = { list: async () => Promise.reject(new Error('secret detail at /srv/app/x.js:1')) } as unknown as BatchGridClient;
    const brokenApp = buildApp({ client: broken, token: TOKEN });
    const r = await brokenApp.inject({ method: 'GET', url: '/v1/jobs', headers: auth });
    expect([r.statusCode, r.body]).toEqual([500, '{"error":"internal error"}']);
    await brokenApp.close();
  });

  describe('`batchgrid serve` in a child process', () => {
    const MiB = 2 ** 20;
    let child: ChildProcess;
    let server: string;
    let stderr = '';
    /** Keys of the big objects this block uploads, deleted at the end (the local S3 keeps them in memory). */
    const uploaded: string[] = [];

    beforeAll(async () => {
      const main = distPath('manager/cli/main.js');
      if (!existsSync(distPath('manager/cli/commands/serve.js'))) throw new Error(`${main} has no serve command: run \`npm run build\` first`);
      const url = new URL(config().DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${engine.db.schema}`);
      child = spawn(process.execPath, [main, 'serve', '--port', '0'], {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          BATCHGRID_API_TOKEN: TOKEN,
          BATCHGRID_TASK_QUEUE: engine.taskQueue,
          BATCHGRID_QUEUE_PREFIX: engine.queuePrefix,
          BATCHGRID_BUCKET: engine.bucket,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
      server = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
      });
    }, 60_000);

    afterAll(async () => {
      for (const key of uploaded) await engine.aws.s3.send(new DeleteObjectCommand({ Bucket: engine.bucket, Key: key }));
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    });

    /** Peak and current resident memory of the server process, in bytes. */
    const memory = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
      return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
    };

    /** PUTs `total` generated bytes (a stream, never a buffer) to the server; resolves with its answer. */
    function streamUpload(path: string, total: number, hash: Hash): Promise<{ status: number; body: Json }> {
      let sent = 0;
      let n = 0;
      const body = new Readable({
        read() {
          if (sent >= total) return void this.push(null);
          const chunk = Buffer.alloc(Math.min(64 * 1024, total - sent), n++ % 251);
          hash.update(chunk);
          sent += chunk.length;
          this.push(chunk);
        },
      });
      return new Promise((resolve, reject) => {
        const req = request(`${server}${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => void (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        body.pipe(req);
      });
    }

    test('a 120 MiB upload streams to S3 while the server’s peak memory stays bounded', async () => {
      expect((await fetch(`${server}/healthz`)).status).toBe(200);
      // Warm up the upload path (SDK code, first multipart upload) so the baseline includes it.
      const warm = await streamUpload(`/v1/jobs/${randomId('warm')}/input/warm.bin`, 12 * MiB, createHash('sha256'));
      expect(warm.status).toBe(201);
      uploaded.push(warm.body.key);

      const before = memory();
      const total = 120 * MiB;
      const jobId = randomId('big');
      const sent = createHash('sha256');
      const r = await streamUpload(`/v1/jobs/${jobId}/input/big/data.bin`, total, sent);
      const after = memory();
      if (r.status === 201) uploaded.push(r.body.key);
      const growth = after.hwm - before.hwm;
      console.log(`serve: peak RSS ${(before.hwm / MiB).toFixed(1)} MiB before, ${(after.hwm / MiB).toFixed(1)} MiB after a ${total / MiB} MiB upload: growth ${(growth / MiB).toFixed(1)} MiB`);

      expect(r).toEqual({ status: 201, body: { jobId, key: `jobs/${jobId}/input/big/data.bin`, bytes: total, input: `s3://${engine.bucket}/jobs/${jobId}/input/` } });
      const head = await engine.aws.s3.send(new HeadObjectCommand({ Bucket: engine.bucket, Key: r.body.key }));
      expect(head.ContentLength).toBe(total);
      const stored = createHash('sha256');
      for await (const chunk of (await engine.aws.s3.send(new GetObjectCommand({ Bucket: engine.bucket, Key: r.body.key }))).Body as Readable) stored.update(chunk as Buffer);
      expect(stored.digest('hex')).toBe(sent.digest('hex'));
      expect(growth).toBeLessThan(100 * MiB);
    }, 300_000);

    test('SIGTERM stops it cleanly', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });
});
