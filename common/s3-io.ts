import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/** Thrown when an S3 object the job needs does not exist; names bucket and key. */
export class MissingObjectError extends Error {
  constructor(readonly bucket: string, readonly key: string) {
    super(`S3 object s3://${bucket}/${key} does not exist`);
    this.name = 'MissingObjectError';
  }
}

/** Opens an object (or a byte range, `end` exclusive) as a stream. */
export async function openObject(s3: S3Client, bucket: string, key: string, range?: { start?: number; end?: number }): Promise<Readable> {
  const Range = range && (range.start !== undefined || range.end !== undefined)
    ? `bytes=${range.start ?? 0}-${range.end !== undefined ? range.end - 1 : ''}`
    : undefined;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }));
    return r.Body as Readable;
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') throw new MissingObjectError(bucket, key);
    throw err;
  }
}

/** An object's ETag and size (HEAD); MissingObjectError when there is none (a HEAD's 404 has no body, so its error may be nameless). */
export async function objectHead(s3: S3Client, bucket: string, key: string): Promise<{ etag: string; size: number }> {
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: r.ETag ?? '', size: r.ContentLength ?? 0 };
  } catch (err) {
    const name = (err as { name?: string }).name;
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === 'NotFound' || name === 'NoSuchKey' || status === 404) throw new MissingObjectError(bucket, key);
    throw err;
  }
}

/** Size in bytes of an object. */
export async function objectSize(s3: S3Client, bucket: string, key: string): Promise<number> {
  return (await objectHead(s3, bucket, key)).size;
}

/** Every object under a prefix, in key order, page by page (never the whole listing in memory). */
export async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
}

/** Lines of a stream, without their line ends. */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Parsed JSON Lines of an object, skipping blank lines. */
export async function* readJsonLines<T = unknown>(s3: S3Client, bucket: string, key: string): AsyncGenerator<T> {
  let n = 0;
  for await (const line of readLines(await openObject(s3, bucket, key))) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as T;
    } catch (err) {
      throw new Error(`s3://${bucket}/${key} line ${n} is not JSON: ${(err as Error).message}`);
    }
  }
}

/** Characters of JSON Lines gathered before they go to the upload stream (one write per chunk, not per line). */
const WRITE_CHUNK_CHARS = 64 * 1024;

/** Streams JSON Lines into an object (multipart upload); returns the number of lines written. */
export async function writeJsonLines(s3: S3Client, bucket: string, key: string, rows: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
  const body = new PassThrough();
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' } });
  const done = upload.done();
  let n = 0;
  let chunk = '';
  const write = async () => {
    const full = !body.write(chunk);
    chunk = '';
    if (full) await new Promise((r) => body.once('drain', r));
  };
  try {
    for await (const row of rows) {
      n += 1;
      chunk += `${JSON.stringify(row)}\n`;
      if (chunk.length >= WRITE_CHUNK_CHARS) await write();
    }
    if (chunk.length > 0) await write();
    body.end();
  } catch (err) {
    body.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
  return n;
}
