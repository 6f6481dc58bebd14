import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { InputRef } from '../common/messages';
import { listObjects, objectSize, openObject, readJsonLines } from '../common/s3-io';
import type { SplitSpec } from '../pipeline/types';

/** Thrown when the job input cannot be split: empty prefix, a bad manifest line. Retrying cannot help. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const LINE_END = 0x0a;
/** How much a bytes split reads past a boundary at a time while looking for the line end. */
const PROBE_BYTES = 64 * 1024;

/**
 * Splits the job input under `prefix` into parts, streaming: objects are read (lines) or probed
 * around boundaries (bytes), never held whole. Yields one part's inputs at a time.
 */
export async function* splitInput(s3: S3Client, bucket: string, prefix: string, split: SplitSpec): AsyncGenerator<InputRef[]> {
  if (split.by === 'manifest') {
    yield* manifestParts(s3, bucket, prefix, split.key);
    return;
  }
  for await (const obj of listObjects(s3, bucket, prefix)) {
    if (obj.key.endsWith('/')) continue;
    if (split.by === 'object') yield [{ key: obj.key, bytes: obj.size }];
    else if (split.by === 'lines') yield* lineRanges(s3, bucket, obj.key, split.size);
    else yield* byteRanges(s3, bucket, obj.key, obj.size, split.size);
  }
}

/** Ranges of `linesPerPart` lines each, found by scanning the object once. */
async function* lineRanges(s3: S3Client, bucket: string, key: string, linesPerPart: number): AsyncGenerator<InputRef[]> {
  let offset = 0;
  let start = 0;
  let lines = 0;
  const stream = await openObject(s3, bucket, key);
  const ranges: InputRef[][] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(LINE_END);
    while (i !== -1) {
      lines += 1;
      if (lines === linesPerPart) {
        const end = offset + i + 1;
        ranges.push([{ key, start, end, bytes: end - start }]);
        start = end;
        lines = 0;
      }
      i = chunk.indexOf(LINE_END, i + 1);
    }
    offset += chunk.length;
    // Yield between chunks so a huge object never accumulates ranges in memory.
    while (ranges.length > 0) yield ranges.shift()!;
  }
  if (offset > start) yield [{ key, start, end: offset, bytes: offset - start }];
}

/** About `size` bytes per range, each end moved to just after the next line end. */
async function* byteRanges(s3: S3Client, bucket: string, key: string, objectBytes: number, size: number): AsyncGenerator<InputRef[]> {
  let start = 0;
  while (start < objectBytes) {
    let end = start + size >= objectBytes ? objectBytes : await lineEndAtOrAfter(s3, bucket, key, start + size - 1, objectBytes);
    if (end <= start) end = objectBytes;
    yield [{ key, start, end, bytes: end - start }];
    start = end;
  }
}

/** Index just past the first line end at or after `from`, or the object's size. */
async function lineEndAtOrAfter(s3: S3Client, bucket: string, key: string, from: number, objectBytes: number): Promise<number> {
  for (let pos = from; pos < objectBytes; pos += PROBE_BYTES) {
    const end = Math.min(pos + PROBE_BYTES, objectBytes);
    const chunks: Buffer[] = [];
    for await (const c of (await openObject(s3, bucket, key, { start: pos, end })) as AsyncIterable<Buffer>) chunks.push(c);
    const i = Buffer.concat(chunks).indexOf(LINE_END);
    if (i !== -1) return pos + i + 1;
  }
  return objectBytes;
}

const ManifestLine = z.union([
  z.object({ key: z.string().min(1) }).strict(),
  z.object({
    inputs: z.array(z.object({ key: z.string().min(1), start: z.number().int().nonnegative().optional(), end: z.number().int().positive().optional() }).strict()).min(1),
  }).strict(),
]);

/** One part per manifest line: `{"key": "a.csv"}` or `{"inputs": [{"key": "a.csv", "start": 0, "end": 100}]}`; keys relative to the input prefix. */
async function* manifestParts(s3: S3Client, bucket: string, prefix: string, manifestKey: string): AsyncGenerator<InputRef[]> {
  const key = `${prefix}${manifestKey}`;
  await objectSize(s3, bucket, key);
  let n = 0;
  for await (const raw of readJsonLines(s3, bucket, key)) {
    n += 1;
    const line = ManifestLine.safeParse(raw);
    if (!line.success) {
      throw new InputError(`manifest s3://${bucket}/${key} line ${n}: ${line.error.issues.map((i) => `${i.path.join('.') || '(line)'} ${i.message}`).join('; ')}`);
    }
    const inputs = 'key' in line.data ? [{ key: line.data.key }] : line.data.inputs;
    yield inputs.map((i) => ({ ...i, key: `${prefix}${i.key}` }));
  }
}
