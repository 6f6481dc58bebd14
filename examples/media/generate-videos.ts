import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Test videos for the media example, made by ffmpeg's own test source (`testsrc2`: a moving
 * pattern and a frame counter): H.264 in MP4, no audio. Used by the demo (scripts/demo/media.ts)
 * and the integration test; also a command:
 *   node dist/examples/media/generate-videos.js --out DIR
 */

const run = promisify(execFile);

export interface VideoSpec {
  /** File name, ending in .mp4. */
  name: string;
  width: number;
  height: number;
  /** Length in seconds. */
  seconds: number;
  /** Frames per second. Default: 25. */
  rate?: number;
}

/** The default set: three short videos at three resolutions. */
export const DEFAULT_VIDEOS: readonly VideoSpec[] = [
  { name: 'testsrc-720p.mp4', width: 1280, height: 720, seconds: 4 },
  { name: 'testsrc-480p.mp4', width: 854, height: 480, seconds: 3 },
  { name: 'testsrc-360p.mp4', width: 640, height: 360, seconds: 2 },
];

export interface GeneratedVideo extends VideoSpec {
  file: string;
  bytes: number;
}

/** Writes every video of `videos` into `dir` (made if missing), one ffmpeg at a time; returns them in order. */
export async function generateVideos(options: { dir: string; videos?: readonly VideoSpec[]; ffmpeg?: string }): Promise<GeneratedVideo[]> {
  const program = options.ffmpeg ?? 'ffmpeg';
  await fs.mkdir(options.dir, { recursive: true });
  const out: GeneratedVideo[] = [];
  for (const v of options.videos ?? DEFAULT_VIDEOS) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.mp4$/.test(v.name)) throw new Error(`video name ${JSON.stringify(v.name)} must be a plain file name ending in .mp4`);
    const file = path.join(options.dir, v.name);
    const source = `testsrc2=size=${v.width}x${v.height}:rate=${v.rate ?? 25}`;
    const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', String(v.seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-movflags', '+faststart', file];
    try {
      await run(program, args);
    } catch (err) {
      const e = err as { code?: string; stderr?: string; message: string };
      if (e.code === 'ENOENT') throw new Error(`${program} is not on the PATH: install Debian's ffmpeg package (batchgrid dev up does when it is missing)`, { cause: err });
      throw new Error(`${program} could not make ${v.name}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
    }
    out.push({ ...v, file, bytes: (await fs.stat(file)).size });
  }
  return out;
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const dir = at > 0 ? process.argv[at + 1] : undefined;
  if (!dir) {
    process.stderr.write('usage: node dist/examples/media/generate-videos.js --out DIR\n');
    process.exit(2);
  }
  generateVideos({ dir }).then(
    (videos) => videos.forEach((v) => process.stdout.write(`${v.file}  ${v.width}x${v.height}  ${v.seconds}s  ${v.bytes} bytes\n`)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
