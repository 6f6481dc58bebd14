import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { config } from '../../common/config';
import { distPath, packageRoot } from '../../common/paths';
import { DEFAULT_VIDEOS, generateVideos } from '../../examples/media/generate-videos';
import type { Catalogue, CatalogueFile } from '../../examples/media/tasks';
import { BatchGridClient } from '../../manager/client';
import { formatBytes, formatElapsed, formatTable } from '../../manager/cli/render/format';
import { submitAndFollow } from './follow';
import { startLocalEngine } from './local-engine';
import { heading, indent, printReport, printStageTimings, say } from './print';

/**
 * `npm run demo -- --media` (after scripts/demo.sh has built, started the stack, installed
 * ffmpeg and migrated): the media example (examples/media) end to end on two local fleets,
 * `small` (probe, thumbnail, catalogue) and `big` (the two transcodes), over videos made by
 * ffmpeg's test source; prints the catalogue and the makespan.
 */

interface MediaOptions {
  small: number;
  big: number;
  concurrency: number;
}

async function run(): Promise<void> {
  const opts = parseOptions();
  const demoStarted = Date.now();
  const cfg = config();
  const root = packageRoot();
  const inputDir = path.join(cfg.BATCHGRID_HOME, 'demo', 'media');
  const execPolicy = path.join(root, 'examples/media/exec-policy.yaml');

  heading(`generating ${DEFAULT_VIDEOS.length} test videos with ffmpeg (testsrc2, H.264)`);
  const generatedAt = Date.now();
  const videos = await generateVideos({ dir: inputDir });
  for (const v of videos) say(`  ${path.relative(root, v.file).padEnd(40)} ${`${v.width}x${v.height}`.padEnd(9)} ${v.seconds} s  ${formatBytes(v.bytes)}`);
  say(`  in ${formatElapsed(Date.now() - generatedAt)}`);

  heading(`starting an orchestrator, ${opts.small} small and ${opts.big} big fleet workers (${opts.concurrency} parts each at once)`);
  const engine = startLocalEngine({
    fleets: [
      { fleet: 'small', workers: opts.small, concurrency: opts.concurrency, tasksModule: distPath('examples/media/tasks.js'), execPolicy },
      { fleet: 'big', workers: opts.big, concurrency: opts.concurrency, execPolicy },
    ],
    logDir: path.join(cfg.BATCHGRID_HOME, 'logs'),
  });
  for (const p of engine.processes) say(`  ${p.name.padEnd(20)} pid ${p.child.pid}  log ${path.relative(root, p.logFile)}`);
  let client: BatchGridClient | undefined;
  try {
    client = await BatchGridClient.connect();
    const pipelineFile = path.join(root, 'examples/media/pipeline.yaml');
    const followed = await submitAndFollow(client, engine, pipelineFile, inputDir);
    if (!followed) return;
    const { summary, submitted, ended } = followed;
    const { jobId } = followed;

    const download = path.join(cfg.BATCHGRID_HOME, 'demo', 'media-results', jobId);
    const results = await client.results(jobId, { download });
    const file = results.entries.find((e) => e.stage === 'catalogue')?.outputs.find((o) => o.key.endsWith('/catalogue.json'))?.path;
    if (!file) throw new Error(`job ${jobId} wrote no catalogue.json`);
    heading(`catalogue (${path.relative(root, file)}), read back by ffprobe`);
    printCatalogue(JSON.parse(await readFile(file, 'utf8')) as Catalogue);

    heading('performance');
    printStageTimings(summary);
    printReport(jobId);

    heading('makespan');
    say(`  job (workflow start → end):   ${formatElapsed(summary.finishedAt - summary.startedAt)} for ${videos.length} videos, ${videos.reduce((s, v) => s + v.seconds, 0)} s of video`);
    say(`  submit → end (with upload):   ${formatElapsed(ended - submitted)}`);
    say(`  whole demo (after the build): ${formatElapsed(ended - demoStarted)}`);
  } finally {
    await client?.close();
    heading('stopping the orchestrator and the fleet workers');
    await engine.stop();
    say('  stopped. The local stack (Temporal, ElasticMQ, the versitygw S3 server, moto, Postgres) is still running: `bin/batchgrid dev down` stops it.');
  }
}

function printCatalogue(catalogue: Catalogue): void {
  const row = (source: string, what: string, f: Omit<CatalogueFile, 'name' | 'stage' | 'key'>) => [source, what, f.codec, `${f.width}x${f.height}`, `${f.duration.toFixed(3)} s`, formatBytes(f.bytes)];
  const rows = catalogue.videos.flatMap((v) => [
    row(v.source, 'source', v.original),
    ...v.renditions.map((r) => row('', `${r.name} (${r.stage})`, r)),
    ...(v.thumbnail ? [row('', `${v.thumbnail.name} (${v.thumbnail.stage})`, v.thumbnail)] : []),
  ]);
  say(indent(formatTable(['VIDEO', 'FILE', 'CODEC', 'SIZE', 'DURATION', 'BYTES'], rows)));
}

function parseOptions(): MediaOptions {
  const whole = (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1.');
    return n;
  };
  return new Command('demo --media')
    .description('run the media example end to end on two local fleets')
    .option('--small <n>', 'worker processes of the small fleet (probe, thumbnail, catalogue)', whole, 1)
    .option('--big <n>', 'worker processes of the big fleet (transcode)', whole, 2)
    .option('--concurrency <n>', 'parts each worker runs at once', whole, 2)
    .parse(process.argv)
    .opts<MediaOptions>();
}

run().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
