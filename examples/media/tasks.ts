import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mapLimited } from '../../common/concurrency';
import { PermanentTaskError, defineTask, type TaskContext } from '../../worker';
import { mediaFacts, probeFile, type FfprobeOutput, type MediaFacts } from './probe';

/**
 * The media example's own handler (see README.md): `media.catalogue`, the gather stage of
 * pipeline.yaml. Probing, thumbnails and transcoding are the built-in `exec` task running the
 * templates of exec-policy.yaml; this reads every rendition back with ffprobe and writes
 * catalogue.json. Load it on the small fleet with
 * `batchgrid fleet-worker --fleet small --tasks dist/examples/media/tasks.js --exec-policy examples/media/exec-policy.yaml`.
 */

/** Renditions downloaded and probed at once. */
const PROBE_CONCURRENCY = 4;

/** One rendition (or the thumbnail) of a video, as ffprobe reads it back. */
export interface CatalogueFile extends MediaFacts {
  /** Its name among the part's outputs, e.g. `360p.mp4`. */
  name: string;
  /** The stage that made it. */
  stage: string;
  /** Its S3 key in the job's bucket. */
  key: string;
}

/** One source video and what the pipeline made of it. */
export interface CatalogueVideo {
  /** The uploaded file's name. */
  source: string;
  /** Its part number (the same in every root stage). */
  part: number;
  /** The source, from the probe stage's probe.json. */
  original: MediaFacts;
  /** The H.264 renditions, largest first. */
  renditions: CatalogueFile[];
  thumbnail?: CatalogueFile;
}

/** catalogue.json. */
export interface Catalogue {
  videos: CatalogueVideo[];
}

/** What `media.catalogue` returns for its part (the catalogue itself is the output). */
export interface CatalogueResult {
  videos: number;
  renditions: number;
  thumbnails: number;
  /** Seconds of video, over the sources. */
  sourceSeconds: number;
}

/** `…/stages/<stage>/parts/<part>/<name>`: where an upstream output came from. */
const OUTPUT_KEY = /\/stages\/([^/]+)\/parts\/(\d+)\/(.+)$/;

interface Upstream {
  index: number;
  key: string;
  stage: string;
  part: number;
  name: string;
}

/** Gathers every upstream output into catalogue.json: each video's probe, renditions and thumbnail, read back by ffprobe. */
export const catalogue = defineTask({
  name: 'media.catalogue',
  description: 'Reads every rendition and thumbnail back with ffprobe; writes catalogue.json.',
  async run(_part, ctx): Promise<CatalogueResult> {
    const upstream = ctx.inputs.map((ref, index): Upstream => {
      const m = OUTPUT_KEY.exec(ref.key);
      if (!m) throw new PermanentTaskError(`input ${ref.key} is not a stage's output: media.catalogue gathers the outputs of the probe, thumbnail and transcode stages`);
      return { index, key: ref.key, stage: m[1]!, part: Number(m[2]), name: m[3]! };
    });
    const probes = upstream.filter((u) => u.name === 'probe.json');
    const media = upstream.filter((u) => u.name.endsWith('.mp4') || u.name === 'thumbnail.jpg');
    if (probes.length === 0) throw new PermanentTaskError(`no probe.json among the ${ctx.inputs.length} input(s): media.catalogue needs the probe stage`);

    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-media-'));
    try {
      const [originals, files] = await Promise.all([
        mapLimited(probes, PROBE_CONCURRENCY, async (u) => ({ part: u.part, ...sourceOf(JSON.parse(await readText(ctx, u.index)) as FfprobeOutput, u.key) })),
        mapLimited(media, PROBE_CONCURRENCY, async (u): Promise<CatalogueFile & { part: number }> => {
          const local = path.join(scratch, String(u.index), path.basename(u.name));
          await fs.mkdir(path.dirname(local), { recursive: true });
          await pipeline(ctx.openInput(u.index), createWriteStream(local), { signal: ctx.signal });
          const facts = await probeFile(local).catch((err: unknown) => {
            throw new PermanentTaskError(`${u.key}: ${(err as Error).message}`);
          });
          await fs.rm(local);
          return { part: u.part, name: u.name, stage: u.stage, key: u.key, ...facts };
        }),
      ]);
      const videos = originals
        .map(({ part, source, original }): CatalogueVideo => {
          const mine = files.filter((f) => f.part === part).map(({ part: _, ...f }) => f);
          const thumbnail = mine.find((f) => f.name === 'thumbnail.jpg');
          const renditions = mine.filter((f) => f !== thumbnail).sort((a, b) => b.height - a.height || (a.name < b.name ? -1 : 1));
          return { source, part, original, renditions, ...(thumbnail ? { thumbnail } : {}) };
        })
        .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.part - b.part));
      const doc: Catalogue = { videos };
      await ctx.writeOutput('catalogue.json', `${JSON.stringify(doc, null, 2)}\n`, { contentType: 'application/json' });
      return {
        videos: videos.length,
        renditions: videos.reduce((n, v) => n + v.renditions.length, 0),
        thumbnails: videos.filter((v) => v.thumbnail).length,
        sourceSeconds: Math.round(videos.reduce((s, v) => s + v.original.duration, 0) * 1000) / 1000,
      };
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  },
});

/** The source's name (ffprobe saw the exec task's local copy, which keeps the uploaded file's name) and facts. */
function sourceOf(probe: FfprobeOutput, key: string): { source: string; original: MediaFacts } {
  try {
    return { source: path.basename(probe.format?.filename ?? key), original: mediaFacts(probe, key) };
  } catch (err) {
    throw new PermanentTaskError((err as Error).message);
  }
}

async function readText(ctx: TaskContext<unknown>, index: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.openInput(index)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export default [catalogue];
