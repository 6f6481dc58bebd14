import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Command, Option } from 'commander';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { config } from '../../common/config';
import { packageRoot } from '../../common/paths';
import { workflowsPath } from '../../orchestrator';

/**
 * Screenshots of a batchgrid job in the Temporal UI, for docs/ui.md:
 *   <out>/ui-jobs.png  the workflow list filtered by BatchgridPipeline, with the Batchgrid columns;
 *   <out>/<name>.png   one job's page: summary and current details, memo, pending activities
 *                      (while it runs), and the timeline of its activities with their summaries.
 *
 *   node dist/scripts/demo/screenshot.js [--job ID] [--pipeline claims-monthly] [--name ui-job] [--out docs] [--only list|job]
 *
 * Needs Chromium (/usr/bin/chromium, or --chromium PATH) and the Temporal dev server's UI. The UI
 * reads a job's current details through a query, which a worker must answer: when no worker
 * polls the orchestrator's task queue, this script runs a workflow-only worker meanwhile.
 */

interface ScreenshotOptions {
  job?: string;
  pipeline: string;
  name: string;
  out: string;
  ui: string;
  chromium: string;
  only?: 'list' | 'job';
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Columns the list screenshot adds, in order, after Status, Workflow ID and Start (the filter shows the pipeline). */
const LIST_COLUMNS = ['Execution Duration', 'BatchgridStatus', 'BatchgridStages', 'BatchgridFleet'];
const say = (text: string) => process.stdout.write(`${text}\n`);

async function run(): Promise<void> {
  const opts = parseOptions();
  const cfg = config();
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  let queries: { stop(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  try {
    const workflowId = opts.job ? `job-${opts.job}` : await newestJob(temporal, opts.pipeline);
    const running = (await temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    say(`job workflow ${workflowId} (${running ? 'running' : 'closed'})`);
    queries = await ensureQueryWorker(temporal, workflowId, cfg.BATCHGRID_TASK_QUEUE);

    browser = await chromium.launch({ executablePath: opts.chromium, args: CHROMIUM_ARGS });
    await mkdir(opts.out, { recursive: true });
    const ns = `${opts.ui}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}`;

    if (opts.only !== 'job') {
      const list = await browser.newPage({ viewport: { width: 1600, height: 720 } });
      await shootList(list, `${ns}/workflows?query=${encodeURIComponent(`BatchgridPipeline="${opts.pipeline}"`)}`, workflowId, path.join(opts.out, 'ui-jobs.png'));
    }
    if (opts.only !== 'list') {
      const job = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
      await shootJob(job, `${ns}/workflows/${encodeURIComponent(workflowId)}`, workflowId, running, path.join(opts.out, `${opts.name}.png`));
    }
  } finally {
    await browser?.close();
    await queries?.stop();
    await connection.close();
  }
}

/** The newest job workflow of a pipeline (the list is newest first). */
async function newestJob(temporal: Client, pipeline: string): Promise<string> {
  for await (const wf of temporal.workflow.list({ query: `BatchgridPipeline="${pipeline}"` })) return wf.workflowId;
  throw new Error(`no job of pipeline ${pipeline} in Temporal: run one first (npm run demo)`);
}

/**
 * Starts a workflow-only worker on the task queue when no worker answers the job's queries within
 * a few seconds (a closed workflow is replayed by a worker to answer one), and returns how to stop it.
 */
async function ensureQueryWorker(temporal: Client, workflowId: string, taskQueue: string): Promise<{ stop(): Promise<void> } | undefined> {
  const answered = await temporal
    .withDeadline(Date.now() + 5000, () => temporal.workflow.getHandle(workflowId).query('__temporal_workflow_metadata'))
    .then(() => true, () => false);
  if (answered) return undefined;
  say(`no worker answers queries on task queue ${taskQueue}: running a workflow-only worker meanwhile`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: config().TEMPORAL_ADDRESS });
  const worker = await Worker.create({ connection, namespace: temporal.options.namespace, taskQueue, workflowsPath });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** The workflow list with the Batchgrid search attributes as columns. */
async function shootList(page: Page, url: string, workflowId: string, file: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await page.getByRole('button', { name: 'Configure Columns' }).click();
  for (const name of ['Run ID', 'Type', 'End']) await clickIfPresent(page, `Remove ${name} column`);
  for (const name of LIST_COLUMNS) await clickIfPresent(page, `Add ${name} column`);
  // The UI keeps the columns in local storage: a reload shows them, with the drawer closed.
  await page.reload({ waitUntil: 'load' });
  await page.getByRole('link', { name: workflowId }).first().waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: file });
  say(`wrote ${path.relative(process.cwd(), file)}`);
}

/**
 * One image of a job's page: its header and Summary & Details (the current details come from a
 * query), its memo, its pending activities while it runs, and the timeline of its activities.
 */
async function shootJob(page: Page, url: string, workflowId: string, running: boolean, file: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await page.getByTestId('workflow-id-heading').waitFor();
  const parts: { caption: string; png: Buffer }[] = [];

  await openTab(page, 'User Metadata');
  await currentDetailsShown(page, workflowId.replace(/^job-/, ''));
  parts.push({ caption: 'Header and User Metadata: the static summary, and the current details the workflow keeps up to date', png: await shootMain(page, 0) });

  await openTab(page, 'Memo');
  parts.push({ caption: 'Memo: pipeline, input, status and each stage\'s outcome', png: await shootMain(page, await tabsBottom(page)) });

  if (running) {
    await openTab(page, 'Pending Activities');
    await page.getByText('Heartbeat Details', { exact: false }).first().waitFor({ timeout: 15_000 }).catch(() => undefined);
    parts.push({ caption: 'Pending Activities: each running stage heartbeats its live part counts', png: await shootMain(page, await tabsBottom(page)) });
  }

  await openTab(page, 'Timeline');
  const timeline = page.getByRole('heading', { name: 'Timeline' }).first();
  await timeline.waitFor();
  await timeline.scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  const top = (await timeline.boundingBox())!.y - 8;
  parts.push({ caption: 'Timeline: one bar per activity, labelled with its summary (plan, run and finish of each stage)', png: await shootMain(page, top) });

  await page.setViewportSize({ width: 1400, height: 800 });
  await page.setContent(compositeHtml(workflowId, parts));
  await page.screenshot({ path: file, fullPage: true });
  say(`wrote ${path.relative(process.cwd(), file)}`);
}

/**
 * Waits until the current details (answered by a worker through a query) are on the page: the UI
 * renders each markdown field in its own frame, `/render?content=…`; ours begins `**pipeline** job <id>: <status>`.
 */
async function currentDetailsShown(page: Page, jobId: string, timeoutMs = 30_000): Promise<void> {
  const pattern = new RegExp(`job ${jobId}: (scheduled|running|paused|succeeded|failed|cancelled)`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = page.frames().find((f) => f.url().includes('/render?') && pattern.test(decodeURIComponent(f.url())));
    if (frame) return frame.waitForLoadState('load');
    if (Date.now() > deadline) throw new Error(`the job's current details did not show within ${timeoutMs} ms: does a worker answer queries on its task queue?`);
    await page.waitForTimeout(250);
  }
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).first().click();
  await page.waitForTimeout(800);
}

async function clickIfPresent(page: Page, label: string): Promise<void> {
  const button = page.getByRole('button', { name: label, exact: true });
  if ((await button.count()) > 0) await button.first().click();
}

/** Bottom edge of the tab bar, in page pixels. */
async function tabsBottom(page: Page): Promise<number> {
  const box = await page.getByRole('tablist').first().boundingBox();
  return box ? box.y + box.height : 0;
}

/** The main area from `top` down to the end of its visible content. */
async function shootMain(page: Page, top: number): Promise<Buffer> {
  const clip = await page.evaluate((from) => {
    // Runs in the browser; this project has no DOM types, so the few used are declared here.
    interface Box { x: number; y: number; top: number; bottom: number; width: number; height: number }
    interface El { children: { length: number }; tagName: string; getBoundingClientRect(): Box }
    const w = globalThis as unknown as {
      document: { querySelector(s: string): El | null; querySelectorAll(s: string): Iterable<El> };
      innerHeight: number;
      getComputedStyle(el: El): { visibility: string };
    };
    const main = w.document.querySelector('main')!.getBoundingClientRect();
    let bottom = from;
    for (const el of w.document.querySelectorAll('main *')) {
      const r = el.getBoundingClientRect();
      const leaf = el.children.length === 0 || el.tagName === 'svg';
      if (!leaf || r.width === 0 || r.height === 0 || r.top < from || r.bottom > w.innerHeight) continue;
      if (w.getComputedStyle(el).visibility === 'hidden') continue;
      bottom = Math.max(bottom, r.bottom);
    }
    const y = Math.max(main.y, from);
    return { x: main.x, y, width: main.width, height: Math.min(w.innerHeight, bottom + 16) - y };
  }, top);
  return page.screenshot({ clip });
}

function compositeHtml(workflowId: string, parts: { caption: string; png: Buffer }[]): string {
  const sections = parts
    .map((p) => `<figure><figcaption>${escapeHtml(p.caption)}</figcaption><img src="data:image/png;base64,${p.png.toString('base64')}"></figure>`)
    .join('');
  return `<!doctype html><html><head><style>
    body { margin: 0; padding: 16px; background: #e8ebf0; font: 15px system-ui, sans-serif; }
    h1 { font-size: 18px; margin: 0 0 12px; }
    figure { margin: 0 0 16px; background: #fff; border: 1px solid #c9ced6; }
    figcaption { padding: 8px 12px; background: #1f2937; color: #fff; }
    img { display: block; max-width: 100%; }
  </style></head><body><h1>Temporal UI: batchgrid job ${escapeHtml(workflowId)}</h1>${sections}</body></html>`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function parseOptions(): ScreenshotOptions {
  const cfg = config();
  return new Command('screenshot')
    .description('screenshot a batchgrid job in the Temporal UI (list and job page)')
    .option('--job <id>', 'job id (default: the newest job of --pipeline)')
    .option('--pipeline <name>', 'pipeline whose jobs the list shows', 'claims-monthly')
    .option('--name <file>', 'file name (without .png) of the job page image', 'ui-job')
    .option('--out <dir>', 'folder to write into', path.join(packageRoot(), 'docs'))
    .option('--ui <url>', 'Temporal UI', `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`)
    .option('--chromium <path>', 'Chromium executable', '/usr/bin/chromium')
    .addOption(new Option('--only <image>', 'take only the list or only the job page').choices(['list', 'job']))
    .parse(process.argv)
    .opts<ScreenshotOptions>();
}

run().catch((err: unknown) => {
  process.stderr.write(`screenshot: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
