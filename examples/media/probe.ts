import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * ffprobe's view of a media file, and the few facts the catalogue keeps of it. ffprobe runs with
 * an argument vector (no shell), from the PATH (Debian's ffmpeg package: `batchgrid dev up`
 * installs it when missing).
 */

const run = promisify(execFile);

/** The part of `ffprobe -print_format json -show_format -show_streams` this example reads. */
export interface FfprobeOutput {
  format?: { filename?: string; format_name?: string; duration?: string; size?: string; bit_rate?: string };
  streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number; duration?: string; avg_frame_rate?: string }[];
}

/** What the catalogue says of one file: its first video stream and its container. */
export interface MediaFacts {
  /** Seconds, from the container (ffprobe's format.duration). */
  duration: number;
  /** The video stream's codec, e.g. `h264`, `mjpeg`. */
  codec: string;
  width: number;
  height: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Frames per second of the video stream, when ffprobe knows it. */
  fps?: number;
}

/** Runs ffprobe on a local file; throws naming the file and ffprobe's stderr when it cannot. */
export async function ffprobe(file: string, program = 'ffprobe'): Promise<FfprobeOutput> {
  try {
    const { stdout } = await run(program, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as FfprobeOutput;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`${program} is not on the PATH: install Debian's ffmpeg package (batchgrid dev up does when it is missing)`, { cause: err });
    throw new Error(`${program} could not read ${file}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

/** The catalogue's facts of an ffprobe output; throws when it holds no video stream. `what` names the file in the error. */
export function mediaFacts(probe: FfprobeOutput, what: string): MediaFacts {
  const video = probe.streams?.find((s) => s.codec_type === 'video');
  if (!video?.codec_name || !video.width || !video.height) throw new Error(`${what} has no video stream that ffprobe can read`);
  const duration = Number(probe.format?.duration ?? video.duration);
  const bytes = Number(probe.format?.size);
  const fps = frameRate(video.avg_frame_rate);
  return {
    duration: Number.isFinite(duration) ? duration : 0,
    codec: video.codec_name,
    width: video.width,
    height: video.height,
    bytes: Number.isFinite(bytes) ? bytes : 0,
    ...(fps !== undefined ? { fps } : {}),
  };
}

/** `25/1` → 25; `0/0` or nothing → undefined. */
function frameRate(text: string | undefined): number | undefined {
  const [n, d] = (text ?? '').split('/').map(Number);
  if (!n || !d) return undefined;
  return Math.round((n / d) * 1000) / 1000;
}

/** ffprobe on a local file, as the catalogue's facts. */
export async function probeFile(file: string, program?: string): Promise<MediaFacts> {
  return mediaFacts(await ffprobe(file, program), file);
}
