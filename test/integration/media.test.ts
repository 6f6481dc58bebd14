import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { inputPrefixOf } from '../../common/layout';
import { launchJob } from '../../manager/launch';
import { generateVideos, type GeneratedVideo } from '../../examples/media/generate-videos';
import { probeFile, type MediaFacts } from '../../examples/media/probe';
import mediaTasks, { type Catalogue, type CatalogueResult } from '../../examples/media/tasks';
import { loadExecPolicyFile } from '../../worker/builtin/exec-policy';
import { pipeline, randomId, startEngine, type TestEngine } from '../support/engine';

/**
 * The media example end to end on the real stack: its pipeline.yaml and exec policy, a small
 * fleet (probe, thumbnail, catalogue) and a big fleet (transcode) of in-process workers, over
 * videos made by ffmpeg's test source. The catalogue must agree with ffprobe run here on the
 * sources, and each fleet must have run only its own stages.
 */
describe('media example end to end', () => {
  let engine: TestEngine;
  let videos: GeneratedVideo[];
  let sources: Map<string, MediaFacts>;
  const dir = path.join(os.tmpdir(), `media-${randomId()}`);
  const root = path.join(__dirname, '../..');
  const policy = loadExecPolicyFile(path.join(root, 'examples/media/exec-policy.yaml'));
  let small: Awaited<ReturnType<TestEngine['startFleet']>>;
  let big: Awaited<ReturnType<TestEngine['startFleet']>>;

  beforeAll(async () => {
    videos = await generateVideos({
      dir,
      videos: [
        { name: 'a-720p.mp4', width: 1280, height: 720, seconds: 2 },
        { name: 'b-480p.mp4', width: 854, height: 480, seconds: 3 },
        { name: 'c-360p.mp4', width: 640, height: 360, seconds: 2.5 },
      ],
    });
    sources = new Map(await Promise.all(videos.map(async (v) => [v.name, await probeFile(v.file)] as const)));
    engine = await startEngine();
    small = await engine.startFleet(1, { fleet: 'small', tasks: mediaTasks, execPolicy: policy, concurrency: 4 });
    big = await engine.startFleet(2, { fleet: 'big', execPolicy: policy, concurrency: 2 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('probe, thumbnail and transcode on two fleets, then a catalogue that ffprobe confirms', async () => {
    const def = pipeline(parse(await readFile(path.join(root, 'examples/media/pipeline.yaml'), 'utf8')) as Record<string, unknown>);
    const jobId = randomId('j');
    for (const v of videos) {
      await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `${inputPrefixOf(jobId)}${v.name}`, Body: await readFile(v.file) }));
    }
    const { handle } = await launchJob({ db: engine.db.pool, temporal: engine.temporal, taskQueue: engine.taskQueue, bucket: engine.bucket }, { jobId, pipeline: def, inputPrefix: inputPrefixOf(jobId) });
    const summary = await handle.result();
    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('succeeded');
    expect(summary.stages.map((s) => [s.stageId, s.partsTotal, s.succeeded]).sort()).toEqual([
      ['catalogue', 1, 1],
      ['probe', 3, 3],
      ['thumbnail', 3, 3],
      ['transcode-180p', 3, 3],
      ['transcode-360p', 3, 3],
    ]);

    const [entry] = await engine.readJsonLines<{ stage: string; result: CatalogueResult; outputs: { key: string }[] }>(summary.resultsKey!);
    expect(entry!.stage).toBe('catalogue');
    expect(entry!.result).toMatchObject({ videos: 3, renditions: 6, thumbnails: 3 });
    expect(entry!.result.sourceSeconds).toBeCloseTo([...sources.values()].reduce((s, v) => s + v.duration, 0), 3);
    const catalogueKey = entry!.outputs.find((o) => o.key.endsWith('/catalogue.json'))!.key;
    const catalogue = JSON.parse(await engine.readText(catalogueKey)) as Catalogue;

    expect(catalogue.videos.map((v) => v.source)).toEqual(['a-720p.mp4', 'b-480p.mp4', 'c-360p.mp4']);
    for (const v of catalogue.videos) {
      const source = sources.get(v.source)!;
      expect(v.original).toEqual(source);
      expect(v.renditions.map((r) => [r.name, r.stage, r.codec, r.width, r.height])).toEqual([
        ['360p.mp4', 'transcode-360p', 'h264', 640, 360],
        ['180p.mp4', 'transcode-180p', 'h264', 320, 180],
      ]);
      for (const r of v.renditions) {
        expect(Math.abs(r.duration - source.duration)).toBeLessThanOrEqual(0.1);
        expect(r.bytes).toBeGreaterThan(0);
        expect(r.key.startsWith(`jobs/${jobId}/stages/${r.stage}/parts/${v.part}/`)).toBe(true);
      }
      expect(v.thumbnail).toMatchObject({ name: 'thumbnail.jpg', stage: 'thumbnail', codec: 'mjpeg', width: 320, height: Math.round((320 * source.height) / source.width / 2) * 2 });
    }

    // Each fleet's workers ran only the parts of its own stages.
    const runs = (await engine.db.pool.query(`SELECT stage_id, worker_id FROM task_runs WHERE job_id = $1 AND status = 'succeeded'`, [jobId])).rows as { stage_id: string; worker_id: string }[];
    const smallIds = new Set(small.map((w) => w.workerId));
    const bigIds = new Set(big.map((w) => w.workerId));
    const ranBy = (stages: string[]) => new Set(runs.filter((r) => stages.includes(r.stage_id)).map((r) => r.worker_id));
    expect([...ranBy(['probe', 'thumbnail', 'catalogue'])].every((id) => smallIds.has(id))).toBe(true);
    expect([...ranBy(['transcode-360p', 'transcode-180p'])].every((id) => bigIds.has(id))).toBe(true);
    expect(runs).toHaveLength(13);
  }, 90_000);
});
