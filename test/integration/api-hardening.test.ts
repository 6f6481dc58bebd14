import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { request, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { openObject } from '../../common/s3-io';
import { BatchGridClient } from '../../manager';
import { apiRoutes, buildApp, requestPipeline } from '../../manager/api';
import { getJob, insertJob } from '../../store/jobs';
import { randomId, startEngine, type TestEngine } from '../support/engine';

/**
 * The API through a listening server with node's http module, so every path reaches the server
 * exactly as written here (fetch and app.inject normalise some of them away).
 */

const TOKEN = `test-token-${randomId()}-${randomId()}`;
const GOOD = { authorization: `Bearer ${TOKEN}` };
const CALLERS: Record<string, OutgoingHttpHeaders> = { 'no token': {}, 'a wrong token': { authorization: `Bearer ${TOKEN}x` } };
const UNAUTHORIZED_BODY = '{"error":"unauthorized"}';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request to `path` exactly as written; `body` chunks are sent chunked when there are several. */
function send(base: string, method: string, path: string, headers: OutgoingHttpHeaders, body?: Buffer | Buffer[]): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else req.end(body);
  });
}

/** `/v1/jobs/x` written every way that names the same route, or tries to. */
function spellings(path: string): Record<string, string> {
  const rest = path.slice('/v1'.length);
  const encodeAll = (p: string) => p.replace(/[^/]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return {
    plain: path,
    'encoded /v1': `/%76%31${rest}`,
    'encoded 1': `/v%31${rest}`,
    'every character encoded': encodeAll(path),
    'encoded slashes': `/${path.slice(1).replaceAll('/', '%2F')}`,
    'one encoded slash': `/v1%2F${rest.slice(1)}`,
    'doubled slashes': path.replaceAll('/', '//'),
    'leading double slash': `/${path}`,
    'dot segment': `/v1/.${rest}`,
    'encoded dot segment': `/v1/%2e${rest}`,
    'dot-dot segment': `/x/..${path}`,
    'encoded dot-dot segment': `/x/%2e%2e${path}`,
    'capitalised segments': path.replace(/\/([a-z])/g, (_m, c: string) => `/${c.toUpperCase()}`),
    'upper case': path.toUpperCase(),
    'trailing slash': `${path}/`,
  };
}

describe('HTTP API hardening, through a listening server', () => {
  let engine: TestEngine;
  let client: BatchGridClient;
  let app: FastifyInstance;
  let base: string;
  /** A job that exists, so that a leak would show its id and definition. */
  const seeded = randomId('seeded');
  const secretPipeline = `secret-${randomId()}`;
  /** The job id every unauthenticated upload and submit aims at. */
  const probe = randomId('probe');
  /** Objects this file stored, deleted at the end. */
  const stored: string[] = [];

  beforeAll(async () => {
    // No orchestrator: nothing here runs a job, and a job started by mistake stays visible in the jobs table.
    engine = await startEngine({ orchestrator: false });
    client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
    const definition = requestPipeline({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: secretPipeline, stages: [{ id: 'upper', task: 'lines.upper' }] });
    await insertJob(engine.db.pool, { jobId: seeded, pipelineName: secretPipeline, definition, bucket: engine.bucket, inputPrefix: `jobs/${seeded}/input/`, workflowId: `job-${seeded}`, fleet: 'default' });
    app = buildApp({ client, token: TOKEN });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    // Only a leak starts it; without a worker it would wait on its task queue for ever.
    await engine?.temporal.workflow.getHandle(`job-${probe}`).terminate('test cleanup').catch(() => undefined);
    if (engine) stored.push(...(await keysUnder(`jobs/${probe}/`)));
    for (const key of stored) await engine.aws.s3.send(new DeleteObjectCommand({ Bucket: engine.bucket, Key: key }));
    await app?.close();
    await client?.close();
    await engine?.close();
  });

  const keysUnder = async (prefix: string) =>
    ((await engine.aws.s3.send(new ListObjectsV2Command({ Bucket: engine.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

  /** PUTs `body` to a new job's input with the token; returns the stored key. */
  async function upload(jobId: string, path: string, body: Buffer | Buffer[], headers: OutgoingHttpHeaders = {}): Promise<string> {
    const r = await send(base, 'PUT', `/v1/jobs/${jobId}/input/${path}`, { ...GOOD, ...headers }, body);
    const bytes = Buffer.concat(Array.isArray(body) ? body : [body]).length;
    expect([r.status, JSON.parse(r.body.toString())]).toEqual([201, expect.objectContaining({ key: `jobs/${jobId}/input/${path}`, bytes })]);
    stored.push(`jobs/${jobId}/input/${path}`);
    return `jobs/${jobId}/input/${path}`;
  }

  describe('authentication is decided on the route that matched, and denied by default', () => {
    test('every route not marked public, however its path is spelled, answers 401 with one generic body to no token or a wrong one, and stores nothing', async () => {
      const protectedRoutes = apiRoutes.filter((r) => r.public !== true);
      expect(protectedRoutes.length).toBeGreaterThanOrEqual(15);
      // Real input, so that a submit slipping through would be accepted and recorded.
      const inputJob = randomId('input');
      await upload(inputJob, 'a.txt', Buffer.from('alpha\n'));
      const concrete = (url: string) => url.replace(':id', url.startsWith('/v1/schedules') ? 'nightly' : url.includes('/input/') ? probe : seeded).replace('*', 'a.txt');
      const bodyFor = (method: string, url: string): { headers: OutgoingHttpHeaders; body?: Buffer } => {
        if (method === 'PUT') return { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('smuggled\n') };
        if (method !== 'POST') return { headers: {} };
        const json = url === '/v1/jobs' ? { pipeline: `apiVersion: batchgrid/v1\nkind: Pipeline\nname: smuggled\nstages:\n  - id: a\n    task: lines.upper\n`, input: `s3://${engine.bucket}/jobs/${inputJob}/input/`, jobId: probe } : {};
        return { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(json)) };
      };

      const leaks: string[] = [];
      const bodies = new Set<string>();
      let requests = 0;
      for (const route of protectedRoutes) {
        for (const [spelling, path] of Object.entries(spellings(concrete(route.url)))) {
          for (const [caller, headers] of Object.entries(CALLERS)) {
            const { headers: extra, body } = bodyFor(route.method, route.url);
            const r = await send(base, route.method, path, { ...headers, ...extra }, body);
            requests += 1;
            const text = r.body.toString();
            bodies.add(text);
            if (r.status !== 401 || text !== UNAUTHORIZED_BODY || r.headers['www-authenticate'] !== 'Bearer realm="batchgrid"') {
              leaks.push(`${route.method} ${path} (${spelling}, ${caller}) → ${r.status} ${text.slice(0, 120)}`);
            }
          }
        }
      }
      expect(leaks).toEqual([]);
      expect([...bodies]).toEqual([UNAUTHORIZED_BODY]);
      expect(requests).toBeGreaterThanOrEqual(protectedRoutes.length * 15 * 2);
      // Nothing slipped through: no upload stored, no job recorded.
      expect(await keysUnder(`jobs/${probe}/`)).toEqual([]);
      expect(await getJob(engine.db.pool, probe)).toBeUndefined();
    });

    test('a path that matches no route, or that the router cannot decode, is a 401 without the token: probing tells nothing', async () => {
      // `/` is the console's shell page (public, no data): its app and styles are routes that need the session.
      const paths = ['/console/app.js', '/console/app.css', '/console/nope', '/nope', '/v1', '/v1/nope', '/v1/jobs/x/nope', '/%76%31/nope', '/x/../healthz', '//healthz', '/HEALTHZ', '/v1/jobs/%zz', '/v1/jobs/%zz/progress', `/v1/jobs/${'a'.repeat(200)}`];
      for (const path of paths) {
        for (const [caller, headers] of Object.entries(CALLERS)) {
          for (const method of ['GET', 'POST', 'DELETE']) {
            const r = await send(base, method, path, headers);
            expect([method, path, caller, r.status, r.body.toString()]).toEqual([method, path, caller, 401, UNAUTHORIZED_BODY]);
          }
        }
      }
      // The HEAD twins of GET routes keep their route's flag.
      expect([(await send(base, 'HEAD', '/%76%31/jobs', {})).status, (await send(base, 'HEAD', '/healthz', {})).status]).toEqual([401, 200]);
      // With the token the same paths say what they are.
      expect([(await send(base, 'GET', '/v1/nope', GOOD)).status, (await send(base, 'GET', '/nope', GOOD)).status]).toEqual([404, 404]);
      const bad = await send(base, 'GET', '/v1/jobs/%zz/progress', GOOD);
      expect(bad.status).toBe(400);
    });

    test('with the right token the routes work, however the path is spelled; the health probe and sign-in alone are public', async () => {
      const list = await send(base, 'GET', '/v1/jobs', GOOD);
      expect(list.status).toBe(200);
      expect(JSON.parse(list.body.toString()).jobs.map((j: { jobId: string }) => j.jobId)).toContain(seeded);
      const job = await send(base, 'GET', `/v%31/jobs/${seeded}`, GOOD);
      expect([job.status, JSON.parse(job.body.toString()).pipelineName]).toEqual([200, secretPipeline]);
      const doc = await send(base, 'GET', '/%76%31/openapi.json', { authorization: `bearer   ${TOKEN}` });
      expect([doc.status, JSON.parse(doc.body.toString()).openapi]).toEqual([200, '3.1.0']);
      const jobId = randomId('ok');
      const key = await upload(jobId, 'b.txt', Buffer.from('beta\n'));
      expect(await keysUnder(`jobs/${jobId}/`)).toEqual([key]);
      const unknown = await send(base, 'GET', '/v1/jobs/no-such-job', GOOD);
      expect([unknown.status, unknown.body.toString()]).toEqual([404, '{"error":"job no-such-job not found"}']);

      // Public besides the probe: sign-in, which takes the token in its body (test/integration/console.test.ts covers the console's own files).
      expect(apiRoutes.filter((r) => r.public === true).map((r) => `${r.method} ${r.url}`)).toEqual(['GET /healthz', 'POST /v1/session']);
      for (const path of ['/healthz', '/%68ealthz']) {
        const health = await send(base, 'GET', path, {});
        expect([path, health.status, health.body.toString()]).toEqual([path, 200, '{"status":"ok"}']);
      }
    });
  });

  describe('an upload stores the exact bytes, whatever its content type', () => {
    /** Every byte value, plus what form decoders rewrite: `+`, `&`, `=`, `%20`, and a JSON-looking line. */
    const payload = Buffer.concat([Buffer.from('id,note\n1,a+b=c&d%20e\n{"not":"parsed"}\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\nlast line\n')]);

    const read = async (key: string) => {
      const chunks: Buffer[] = [];
      for await (const chunk of (await openObject(engine.aws.s3, engine.bucket, key)) as Readable) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };

    test.each([
      ['no content type', undefined, undefined],
      ['application/octet-stream', 'application/octet-stream', 'application/octet-stream'],
      ["curl's default, application/x-www-form-urlencoded", 'application/x-www-form-urlencoded', undefined],
      ['a form encoding with parameters, in capitals', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8', undefined],
      ['multipart/form-data', 'multipart/form-data; boundary=xyz', undefined],
      ['text/plain', 'text/plain', 'text/plain'],
      ['application/json', 'application/json', 'application/json'],
      ['text/csv with a charset', 'text/csv; charset=utf-8', 'text/csv; charset=utf-8'],
    ])('%s: the engine reads back the bytes sent', async (_name, contentType, storedType) => {
      const headers = contentType === undefined ? {} : { 'content-type': contentType };
      const ways: [string, Buffer | Buffer[]][] = [
        ['with a length', payload],
        ['chunked', [payload.subarray(0, 17), payload.subarray(17)]],
      ];
      for (const [how, body] of ways) {
        const key = await upload(randomId('bytes'), 'data.bin', body, headers);
        expect([how, (await read(key)).equals(payload)]).toEqual([how, true]);
        const head = await engine.aws.s3.send(new HeadObjectCommand({ Bucket: engine.bucket, Key: key }));
        expect(head.ContentLength).toBe(payload.length);
        // A form encoding is how a form travels, not what the file is: it is not stored as the file's type.
        if (storedType !== undefined) expect(head.ContentType).toBe(storedType);
        else expect(head.ContentType).not.toMatch(/form/i);
      }
    });
  });
});
