import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { shutdownLocalFleets } from '../../activities/grid';
import { config } from '../../common/config';
import { packageRoot } from '../../common/paths';
import { compileFleetObject } from '../../grid/fleet-def';
import { startAutoscaler, stopAutoscaler, type GridDeps } from '../../grid/service';
import { BatchGridClient } from '../../manager';
import { statusText } from '../../manager/cli/commands/status';
import { which } from '../../manager/devstack/run-command';
import { randomId, startEngine, type TestEngine } from '../support/engine';
import { serveBatchgrid } from '../support/processes';
import { waitForValue } from '../support/stack';

/**
 * The web console in a real headless Chromium (Debian's `chromium`, installed by `batchgrid dev up`,
 * driven by playwright-core) served by `batchgrid serve` (a child process) on the real stack: an
 * in-process orchestrator and fleet, Postgres, Temporal, SQS and S3. Needs `npm run build` (the console bundle, and the fleet-worker the
 * autoscaler starts). Each test saves a screenshot of its page under docs/console/ (shown in the README).
 */
jest.setTimeout(240_000);

const TOKEN = `console-token-${randomId()}-${randomId()}`;
const SHOTS = join(packageRoot(), 'docs', 'console');

let engine: TestEngine;
let client: BatchGridClient;
let server: Awaited<ReturnType<typeof serveBatchgrid>>;
let base: string;
let browser: Browser;
let page: Page;
const fleets: string[] = [];

const linesOf = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n');

const sleepJob = (name: string, parts: number, params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  engine.submit(
    { name, concurrency: 2, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params, retry: { attempts: 1 } }], ...extra },
    { 'in.txt': linesOf(parts) },
    { options: { partsPerMessage: 1 } },
  );

async function shot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Answers every confirm() of the page with OK. */
const acceptDialogs = (p: Page) => p.on('dialog', (d) => void d.accept());

async function signIn(p: Page, token = TOKEN): Promise<void> {
  await p.goto(`${base}/`);
  await p.fill('#token', token);
  await p.click('button[type=submit]');
}

beforeAll(async () => {
  const executablePath = which('chromium');
  if (!executablePath) throw new Error('chromium is not on the PATH: run `batchgrid dev up` (it installs Debian\'s chromium package) or apt-get install chromium');
  engine = await startEngine();
  await engine.startFleet(2, { concurrency: 2 });
  client = await BatchGridClient.connect({ db: engine.db.pool, temporal: engine.temporal, aws: engine.aws, taskQueue: engine.taskQueue, bucket: engine.bucket, queuePrefix: engine.queuePrefix });
  // The real `batchgrid serve` (from dist/): the console it serves is the one `npm run build` made.
  server = await serveBatchgrid(engine, { BATCHGRID_API_TOKEN: TOKEN, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' });
  base = server.url;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1366, height: 860 }, timezoneId: 'Europe/Paris' });
  acceptDialogs(page);
  // The shared page is signed in once; the sign-in test uses a page of its own.
  await signIn(page);
  await page.waitForSelector('h1:has-text("Jobs")');
}, 120_000);

afterAll(async () => {
  const deps: GridDeps = { db: engine.db.pool, temporal: engine.temporal, taskQueue: engine.taskQueue };
  for (const fleet of fleets) await stopAutoscaler(deps, fleet, { wait: true }).catch(() => undefined);
  await shutdownLocalFleets();
  await browser?.close();
  await server?.stop();
  await client?.close();
  await engine?.close();
});

test('nothing of the console answers without signing in: the app, its styles, the API; the shell and sign-in script hold no data', async () => {
  const { jobId } = await sleepJob('private-job', 2, {});
  for (const path of ['/console/app.js', '/console/app.css', '/v1/jobs', `/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/parts`, `/v1/jobs/${jobId}/charts`, '/v1/fleets', '/v1/session', '/v1/schedules']) {
    const res = await fetch(`${base}${path}`);
    expect([path, res.status]).toEqual([path, 401]);
  }
  for (const path of ['/', '/console/signin.js']) {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const text = await res.text();
    expect(text).not.toContain(jobId);
    expect(text).not.toContain('private-job');
  }
  // A forged or tampered cookie is no session.
  const signed = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
  expect(signed.status).toBe(201);
  const setCookie = signed.headers.get('set-cookie')!;
  expect(setCookie).toMatch(/^batchgrid_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  const cookie = setCookie.split(';')[0]!;
  const { csrfToken } = (await signed.json()) as { csrfToken: string };
  const tampered = cookie.replace(/^batchgrid_session=(\d+)/, (_m, exp: string) => `batchgrid_session=${Number(exp) + 1000}`);
  expect((await fetch(`${base}/v1/jobs`, { headers: { cookie: tampered } })).status).toBe(401);
  expect((await fetch(`${base}/console/app.js`, { headers: { cookie } })).status).toBe(200);
  expect((await fetch(`${base}/v1/jobs`, { headers: { cookie } })).status).toBe(200);
  // A write with the cookie alone is refused (CSRF); with the session's token it goes through.
  const cancel = (headers: Record<string, string>) => fetch(`${base}/v1/jobs/no-such-job/cancel`, { method: 'POST', headers: { cookie, ...headers } });
  expect((await cancel({})).status).toBe(403);
  expect((await cancel({ 'x-csrf-token': 'wrong' })).status).toBe(403);
  expect((await cancel({ 'x-csrf-token': csrfToken })).status).toBe(404);
  // The bearer token keeps working, and a wrong token is no way in.
  expect((await fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  expect((await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-the-token-at-all' }) })).status).toBe(401);
  // Signing out drops the cookie in the browser.
  const out = await fetch(`${base}/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } });
  expect(out.status).toBe(204);
  expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
});

test('sign-in refuses a wrong token, accepts the right one, and signing out asks again', async () => {
  const p = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  try {
    await signIn(p, 'wrong-token-wrong-token');
    await p.waitForSelector('text=Wrong token');
    expect(await p.locator('h1', { hasText: 'Jobs' }).count()).toBe(0);
    await p.screenshot({ path: join(SHOTS, 'signin.png') });
    await p.fill('#token', TOKEN);
    await p.press('#token', 'Enter');
    await p.waitForSelector('h1:has-text("Jobs")');
    const cookies = await p.context().cookies();
    expect(cookies.find((c) => c.name === 'batchgrid_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await p.click('text=Sign out');
    await p.waitForSelector('#token');
    expect((await p.context().cookies()).find((c) => c.name === 'batchgrid_session')).toBeUndefined();
  } finally {
    await p.close();
  }
});

test('the jobs list shows a running job whose counts change without a reload', async () => {
  await page.goto(`${base}/#/jobs`);
  await page.waitForSelector('h1:has-text("Jobs")');
  const { jobId } = await sleepJob('live-list', 30, { sleepMs: 400 });
  // Page code runs in the browser: given as text (the test's own types have no DOM).
  await page.evaluate('window.noReload = 1');
  const bar = page.locator(`tr[data-job="${jobId}"] .stagebar`);
  const doneNow = async () => Number((await bar.getAttribute('data-done', { timeout: 30_000 })) ?? -1);
  const first = await waitForValue('a first part done in the list', async () => ((await doneNow()) > 0 ? doneNow() : undefined), 60_000, 200);
  const later = await waitForValue('more parts done in the list', async () => {
    const n = await doneNow();
    return n > first ? n : undefined;
  }, 60_000, 200);
  expect(later).toBeGreaterThan(first);
  expect(await page.locator(`tr[data-job="${jobId}"] .status`).textContent()).toBe('running');
  expect(await page.evaluate('window.noReload')).toBe(1);
  await shot('jobs');
  // With the keyboard alone: type an id prefix and Enter filters the list; Enter on a job's link opens it.
  await page.focus('input[name=q]');
  await page.keyboard.type(jobId);
  await page.keyboard.press('Enter');
  await waitForValue('the list filtered to the job', async () => ((await page.locator('table.jobs tbody tr').count()) === 1 && page.url().includes(`q=${jobId}`) ? true : undefined), 30_000, 100);
  await page.focus(`a[href="#/jobs/${jobId}"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`h1:has-text("${jobId}")`);
});

test("a job's parts table filters to the failed parts of a job with planted failures, with their errors", async () => {
  const { jobId, handle } = await sleepJob('planted', 12, { sleepMs: 50, failParts: [3, 7], permanent: true }, { stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 50, failParts: [3, 7], permanent: true }, retry: { attempts: 1 }, tolerate: { failedParts: 2 } }] });
  await handle.result();
  await page.goto(`${base}/#/jobs/${jobId}`);
  await page.waitForSelector('.dag [data-stage="work"]');
  await page.selectOption('select[name=part-status]', 'failed');
  const rows = page.locator('table.parts tbody tr');
  const shown = () => rows.evaluateAll((trs) => trs.map((r) => `${r.getAttribute('data-part')}:${r.getAttribute('data-status')}`));
  await waitForValue('only the failed parts listed', async () => ((await shown()).every((r) => r.endsWith(':failed')) && (await shown()).length > 0 ? true : undefined), 30_000, 200);
  expect(await shown()).toEqual(['3:failed', '7:failed']);
  expect(await page.locator('table.parts .part-error').first().textContent()).toContain('part 3 is in failParts');
  expect(page.url()).toContain('status=failed');
  // The stage graph counts the failures; the report's charts are drawn.
  expect(await page.locator('.dag [data-stage="work"]').textContent()).toContain('failed 2');
  await page.waitForSelector('.chart canvas');
  expect(await page.locator('a:has-text("open in the Temporal UI")').getAttribute('href')).toBe(`http://127.0.0.1:8233/namespaces/${config().TEMPORAL_NAMESPACE}/workflows/job-${jobId}`);
  await page.locator('table.parts .part-error summary').first().click();
  await shot('job');
  await page.locator('.charts').scrollIntoViewIfNeeded();
  await shot('report');
});

test('cancel from the job page ends the job cancelled', async () => {
  const { jobId, handle } = await sleepJob('to-cancel', 40, { sleepMs: 1500 });
  await page.goto(`${base}/#/jobs/${jobId}`);
  await page.waitForSelector('h1 .status:has-text("running")');
  await page.click('button:has-text("Cancel job")');
  await page.waitForSelector('h1 .status:has-text("cancelled")', { timeout: 60_000 });
  await expect(handle.result()).rejects.toThrow(/cancel/i);
  expect((await client.get(jobId)).status).toBe('cancelled');
});

test("tune from the job page: the job's concurrency and tolerance change, the page shows them; an out-of-bounds value shows the API's error", async () => {
  const { jobId, handle } = await sleepJob('to-tune', 40, { sleepMs: 1000 });
  const concurrencyRow = async () => (await engine.db.pool.query('SELECT concurrency, tolerate FROM jobs WHERE job_id = $1', [jobId])).rows[0] as { concurrency: number; tolerate: unknown };
  try {
    await page.goto(`${base}/#/jobs/${jobId}`);
    await page.waitForSelector('h1 .status:has-text("running")');
    const form = page.locator('form.tune');
    const concurrency = form.locator('input[name=tune-concurrency]');
    // The form starts from the job's values: the pipeline's concurrency 2, each stage's own tolerance.
    expect(await concurrency.inputValue()).toBe('2');
    expect(await form.locator('.tuned').textContent()).toContain("now: concurrency 2, priority 1, each stage's own tolerance");
    await concurrency.fill('3');
    await form.locator('input[name=tune-tolerate]').fill('5%');
    await form.locator('button:has-text("Tune")').click();
    await page.waitForSelector('form.tune .tuned[data-concurrency="3"]', { timeout: 30_000 });
    expect(await form.locator('.tuned').textContent()).toContain('now: concurrency 3, priority 1, tolerates 5% failed parts a stage');
    expect(await concurrencyRow()).toEqual({ concurrency: 3, tolerate: { failedPercent: 5 } });
    expect((await client.get(jobId)).concurrency).toBe(3);
    // Tuned elsewhere meanwhile (`batchgrid tune`): the untouched field follows, and a change of another field does not send it back.
    await client.tune(jobId, { concurrency: 4 });
    await waitForValue('the page following the outside tune', async () => ((await concurrency.inputValue()) === '4' ? true : undefined), 30_000, 200);
    await form.locator('input[name=tune-priority]').fill('2');
    await form.locator('button:has-text("Tune")').click();
    await page.waitForSelector('form.tune .tuned[data-priority="2"]', { timeout: 30_000 });
    expect(await page.locator('p.meta').textContent()).toContain('priority 2');
    expect(await concurrencyRow()).toMatchObject({ concurrency: 4 });
    // 0 is below the API's limit: its message is shown, and nothing changes.
    await concurrency.fill('0');
    await form.locator('button:has-text("Tune")').click();
    const alert = form.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/invalid request.*body\.concurrency.*1/s);
    expect((await concurrencyRow()).concurrency).toBe(4);
    expect(await form.locator('.tuned').getAttribute('data-concurrency')).toBe('4');
    await form.scrollIntoViewIfNeeded();
    await shot('tune');
  } finally {
    await client.cancel(jobId).catch(() => undefined);
    await handle.result().catch(() => undefined);
  }
  // Once the job has ended there is nothing to tune: no form.
  await page.waitForSelector('h1 .status:has-text("cancelled")', { timeout: 60_000 });
  expect(await page.locator('form.tune').count()).toBe(0);
});

test('a cached stage run twice: the report view and `batchgrid status` count the parts reused and run', async () => {
  const def = { name: `cached-${randomId()}`, concurrency: 4, input: { split: { by: 'lines', size: 1 } }, stages: [{ id: 'work', task: 'test.sleep-fail', params: { sleepMs: 100 }, cache: true }] };
  const run = async (files: Record<string, string>) => {
    const { jobId, handle } = await engine.submit(def, files, { options: { partsPerMessage: 1 } });
    expect((await handle.result()).status).toBe('succeeded');
    return jobId;
  };
  // Two files of two lines; the second run adds a third file: its two parts run, the four others are reused.
  await run({ 'a.txt': 'a0\na1', 'b.txt': 'b0\nb1' });
  const jobId = await run({ 'a.txt': 'a0\na1', 'b.txt': 'b0\nb1', 'c.txt': 'c0\nc1' });
  await page.goto(`${base}/#/jobs/${jobId}`);
  const row = page.locator('table.cache tr[data-stage="work"]');
  await row.waitFor({ timeout: 30_000 });
  expect([await row.getAttribute('data-hits'), await row.getAttribute('data-misses')]).toEqual(['4', '2']);
  expect((await row.locator('td').allTextContents()).slice(0, 3)).toEqual(['work', '4', '2']);
  expect(statusText(await client.get(jobId), await client.progress(jobId))).toMatch(/\npart cache [^\n]*\nSTAGE +REUSED +RAN +RUN TIME SAVED\nwork +4 +2 +\S+$/);
});

test('submit: a pipeline with a mistake shows the problem with its path and line; fixed, uploaded and submitted, it succeeds', async () => {
  const name = `console-submit-${randomBytes(3).toString('hex')}`;
  const broken = ['apiVersion: batchgrid/v1', 'kind: Pipeline', `name: ${name}`, 'input:', '  split: { by: lines, size: 2 }', 'stages:', '  - id: upper', '    task: lines.upper', '    needs: [nowhere]', ''].join('\n');
  await page.goto(`${base}/#/submit`);
  await page.fill('#pipeline', broken);
  const problem = page.locator('.problems li');
  await problem.first().waitFor();
  expect(await problem.first().textContent()).toMatch(/stages\[0\]\.needs\[0\].*line 9/);
  expect(await page.locator('button[type=submit]:has-text("Submit")').isDisabled()).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'console-input-'));
  try {
    writeFileSync(join(dir, 'a.txt'), linesOf(6));
    writeFileSync(join(dir, 'b.txt'), linesOf(4));
    await page.setInputFiles('input[name=input-files]', [join(dir, 'a.txt'), join(dir, 'b.txt')]);
    await shot('submit');
    await page.fill('#pipeline', broken.replace('    needs: [nowhere]\n', ''));
    await page.waitForSelector('.validation .ok');
    await page.click('button[type=submit]:has-text("Submit")');
    const jobId = await waitForValue('the job page', async () => /#\/jobs\/([a-z0-9-]+)/.exec(page.url())?.[1], 60_000);
    await page.waitForSelector('h1 .status:has-text("succeeded")', { timeout: 90_000 });
    const job = await client.get(jobId);
    expect(job).toMatchObject({ pipelineName: name, status: 'succeeded' });
    expect((await client.progress(jobId)).stages[0]).toMatchObject({ partsTotal: 5, succeeded: 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('schedules are listed, created and deleted from the submit page', async () => {
  const scheduleId = `c${randomBytes(4).toString('hex')}`;
  await page.goto(`${base}/#/submit`);
  await page.waitForSelector('.validation .ok');
  await page.fill('input[name=s3-input]', `s3://${engine.bucket}/jobs/${scheduleId}/input/`);
  await page.fill('input[name=schedule-scheduleId]', scheduleId);
  await page.fill('input[name=schedule-cron]', '0 3 1 1 *');
  await page.click('button:has-text("Create schedule")');
  const row = page.locator('tr', { hasText: scheduleId });
  try {
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('0 3 1 1 *');
    expect((await client.listSchedules()).map((x) => x.scheduleId)).toContain(scheduleId);
    await row.locator('button:has-text("Delete")').click();
    await row.waitFor({ state: 'detached', timeout: 60_000 });
    expect((await client.listSchedules()).map((x) => x.scheduleId)).not.toContain(scheduleId);
  } finally {
    await client.deleteSchedule(scheduleId).catch(() => undefined);
  }
});

test('a fleet page shows a scaling decision made during the test', async () => {
  const fleet = `cfleet-${randomBytes(3).toString('hex')}`;
  fleets.push(fleet);
  const r = compileFleetObject({
    apiVersion: 'batchgrid/v1', kind: 'Fleet', name: fleet, provider: { type: 'local', concurrency: 2 },
    min: 0, max: 2, targetBacklogPerWorker: 2, period: '1s', scaleInCooldown: '2s', idleTimeout: '3s', shutdownGrace: '5s', pricePerWorkerHour: 1.5,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  await startAutoscaler({ temporal: engine.temporal, taskQueue: engine.taskQueue }, r.fleet);
  const { jobId, handle } = await sleepJob('on-fleet', 8, { sleepMs: 300 }, { fleet });
  await page.goto(`${base}/#/fleets/${fleet}`);
  await page.waitForSelector('table.decisions td.reason:has-text("queued from zero")', { timeout: 60_000 });
  await page.waitForSelector('.chart canvas');
  expect(await page.locator('table.decisions tbody tr').last().textContent()).toContain('0 → ');
  await handle.result();
  await shot('fleet');
  await page.goto(`${base}/#/fleets`);
  await page.waitForSelector(`tr[data-fleet="${fleet}"]`);
  // The fleet has a price, so the job's row in the jobs list shows what its parts cost: 8 × 300 ms at 1.5 an hour.
  await page.goto(`${base}/#/jobs?q=${jobId}`);
  const cost = page.locator(`tr[data-job="${jobId}"] td.cost`);
  const shown = await waitForValue('the cost so far', async () => {
    const text = (await cost.textContent({ timeout: 30_000 })) ?? '';
    return /^\d/.test(text) ? Number(text) : undefined;
  }, 30_000, 200);
  expect(shown).toBeCloseTo((8 * 0.3 * 1.5) / 3600, 3);
});

test('the jobs page with 10,000 jobs: first page shown, pages by cursor (the time it takes is printed)', async () => {
  // Finished jobs (nothing to reconcile with Temporal), written straight into this test's schema.
  await engine.db.pool.query(
    `INSERT INTO jobs (job_id, pipeline_name, definition, status, bucket, input_prefix, workflow_id, fleet, created_at)
     SELECT 'bulk-' || lpad(i::text, 5, '0'), 'bulk', '{"name":"bulk","stages":[{"id":"a","task":"noop","needs":[]}]}'::jsonb,
            CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END, 'b', 'jobs/x/input/', 'job-bulk-' || i, 'default',
            now() - interval '1 day' + i * interval '1 second'
       FROM generate_series(1, 10000) AS i`,
  );
  const started = Date.now();
  await page.goto(`${base}/#/jobs?pipeline=bulk`);
  await page.waitForSelector('tr[data-job="bulk-10000"]');
  const firstPageMs = Date.now() - started;
  expect(await page.locator('table.jobs tbody tr').count()).toBe(50);
  const pageStarted = Date.now();
  await page.click('button:has-text("Next")');
  await page.waitForSelector('tr[data-job="bulk-09950"]');
  const nextPageMs = Date.now() - pageStarted;
  await page.selectOption('select[name=status]', 'failed');
  await page.waitForSelector('tr[data-job="bulk-09996"]');
  expect(await page.locator('table.jobs tbody .status').allTextContents()).toEqual(new Array(50).fill('failed'));
  console.log(`console: jobs page with 10,000 jobs: first page shown in ${firstPageMs} ms, next page in ${nextPageMs} ms`);
});
