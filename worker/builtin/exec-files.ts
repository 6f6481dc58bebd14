import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { eachLimited } from '../../common/concurrency';
import type { TaskContext } from '../task';

/** Transfers of one part running at once (downloads, uploads). */
const TRANSFER_CONCURRENCY = 4;
/** Outputs up to this size are uploaded in one PutObject from memory; larger ones are streamed (multipart), in bytes. */
const SMALL_OUTPUT_BYTES = 8 * 1024 * 1024;

/** A file the command wrote under its output folder. */
export interface OutputFile {
  /** Path below the output folder, with `/` separators: the output's name. */
  name: string;
  path: string;
  bytes: number;
}

/**
 * Downloads every input of the part (its byte range when it has one) to `dir/<index>/<basename>`,
 * so names (and extensions, which some programs look at) survive and two inputs never collide.
 * Returns the local paths in input order.
 */
export async function downloadInputs(ctx: TaskContext<unknown>, dir: string): Promise<string[]> {
  const paths = ctx.inputs.map((ref, i) => path.join(dir, String(i), localName(ref.key)));
  await eachLimited(paths, TRANSFER_CONCURRENCY, async (file, i) => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await pipeline(ctx.openInput(i), createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  });
  return paths;
}

/** The last segment of an S3 key, usable as a file name (`input` when the key has none). */
export function localName(key: string): string {
  const base = key.split('/').filter((s) => s !== '').pop() ?? '';
  return base === '.' || base === '..' || base === '' ? 'input' : base;
}

/** Regular files below `dir`, sorted by name. Symbolic links and special files are skipped (reported in `skipped`): only what the command wrote is uploaded. */
export async function listOutputs(dir: string): Promise<{ files: OutputFile[]; skipped: string[] }> {
  const files: OutputFile[] = [];
  const skipped: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(name);
      else if (e.isFile()) {
        const full = path.join(dir, name);
        files.push({ name, path: full, bytes: (await fs.stat(full)).size });
      } else skipped.push(name);
    }
  };
  await walk('');
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, skipped };
}

/** Uploads output files through `ctx.writeOutput` under their relative names. */
export async function uploadOutputs(ctx: TaskContext<unknown>, files: readonly OutputFile[]): Promise<void> {
  await eachLimited(files, TRANSFER_CONCURRENCY, async (f) => {
    const body = f.bytes <= SMALL_OUTPUT_BYTES ? await fs.readFile(f.path) : createReadStream(f.path);
    await ctx.writeOutput(f.name, body);
  });
}

/** The local files one after the other, as one stream (a program's stdin). */
export function concatenated(files: readonly string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const file of files) yield* createReadStream(file);
    })(),
    { objectMode: false },
  );
}
