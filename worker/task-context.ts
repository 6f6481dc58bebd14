import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { PermanentTaskError } from '../common/errors';
import type { Logger } from '../common/logger';
import { InputRef, type OutputRef } from '../common/messages';
import { LIMIT_REASONS, PART_OUTPUTS_MAX } from '../pipeline/limits';
import { InputNotFoundError, ResultTooLargeError } from './errors';
import { splitLines } from './lines';
import type { OutputBody, TaskContext } from './task';

/** Bytes a part moved through the context's helpers. */
export interface IoCounters {
  bytesIn: number;
  bytesOut: number;
}

/**
 * Where a part's inputs are read from and its outputs written to. Default: the job's bucket;
 * `batchgrid part --run` reads downloaded copies and writes to a local folder instead.
 */
export interface PartObjects {
  /** The bytes of one input (its range when it has one). */
  read(ref: InputRef, signal: AbortSignal): AsyncIterable<Buffer>;
  /** Stores one output under `key`; returns its size in bytes. */
  write(key: string, body: OutputBody, signal: AbortSignal, contentType?: string): Promise<number>;
}

export interface TaskContextDeps<P> {
  s3: S3Client;
  bucket: string;
  params: P;
  signal: AbortSignal;
  log: Logger;
  inputs: readonly InputRef[];
  outputPrefix: string;
  receiveCount: number;
  counters: IoCounters;
  /** Default: S3, in `bucket`. */
  objects?: PartObjects;
}

/** Builds the `ctx` a handler receives; reads and writes go through S3 and are counted in `counters`. */
export function createTaskContext<P>(deps: TaskContextDeps<P>): TaskContext<P> {
  const { s3, bucket, signal, counters, inputs, outputPrefix } = deps;
  const outputs: OutputRef[] = [];

  const openInput = (index = 0): Readable => {
    const ref = inputs[index];
    if (!ref) throw new RangeError(`input ${index} does not exist: this part has ${inputs.length} input(s)`);
    return Readable.from(deps.objects ? counted(deps.objects.read(ref, signal), counters) : readObject(s3, bucket, ref, signal, counters), { objectMode: false });
  };

  const writeOutput = async (name: string, body: OutputBody, options?: { contentType?: string }): Promise<OutputRef> => {
    checkOutputName(name);
    const key = `${outputPrefix}${name}`;
    // Refused before the upload: the part could not report it anyway.
    if (outputs.length >= PART_OUTPUTS_MAX && !outputs.some((o) => o.key === key)) {
      throw new ResultTooLargeError(`output ${JSON.stringify(name)} would be output ${outputs.length + 1}, over the limit of ${PART_OUTPUTS_MAX} outputs per part (${LIMIT_REASONS.outputs})`);
    }
    const bytes = deps.objects ? await deps.objects.write(key, body, signal, options?.contentType) : await upload(s3, bucket, key, body, signal, options?.contentType);
    counters.bytesOut += bytes;
    const ref = { key, bytes };
    const existing = outputs.findIndex((o) => o.key === key);
    if (existing >= 0) outputs[existing] = ref;
    else outputs.push(ref);
    return ref;
  };

  return {
    params: deps.params,
    signal,
    log: deps.log,
    bucket,
    s3,
    inputs,
    receiveCount: deps.receiveCount,
    openInput,
    async *lines() {
      for (let i = 0; i < inputs.length; i++) yield* splitLines(openInput(i));
    },
    writeOutput,
    outputs,
  };
}

async function* counted(chunks: AsyncIterable<Buffer>, counters: IoCounters): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    counters.bytesIn += chunk.length;
    yield chunk;
  }
}

/** The HTTP Range header of an input, or undefined for a whole object. `end` is exclusive. */
export function rangeHeader(ref: InputRef): string | undefined {
  if (ref.start === undefined && ref.end === undefined) return undefined;
  const start = ref.start ?? 0;
  return ref.end === undefined ? `bytes=${start}-` : `bytes=${start}-${ref.end - 1}`;
}

/** The bytes of one input from S3 (its range when it has one), counted; a missing object is an InputNotFoundError. */
export async function* readObject(s3: S3Client, bucket: string, ref: InputRef, signal: AbortSignal, counters: IoCounters): AsyncGenerator<Buffer> {
  if (ref.end !== undefined && ref.end <= (ref.start ?? 0)) return; // an empty range: S3 would refuse it
  const range = rangeHeader(ref);
  let body: Readable;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: ref.key, Range: range }), { abortSignal: signal });
    body = res.Body as Readable;
  } catch (err) {
    throw s3ReadError(err, bucket, ref.key, range);
  }
  const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      counters.bytesIn += buf.length;
      yield buf;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    body.destroy();
  }
}

/** Turns a missing object or a bad range into a permanent failure; anything else stays retryable. */
function s3ReadError(err: unknown, bucket: string, key: string, range: string | undefined): unknown {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || status === 404) {
    return new InputNotFoundError(bucket, key, { cause: err });
  }
  if (e?.name === 'InvalidRange' || status === 416) {
    return new PermanentTaskError(`range ${range} is outside input s3://${bucket}/${key}`, { cause: err });
  }
  return err;
}

/** Reads an `inputsKey` list (JSON Lines of InputRef) from S3, line by line. */
export async function readInputsList(s3: S3Client, bucket: string, key: string, signal: AbortSignal, counters: IoCounters): Promise<InputRef[]> {
  const refs: InputRef[] = [];
  let lineNo = 0;
  for await (const line of splitLines(readObject(s3, bucket, { key }, signal, counters))) {
    lineNo++;
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new PermanentTaskError(`inputs list s3://${bucket}/${key} line ${lineNo} is not JSON: ${(err as Error).message}`);
    }
    const parsed = InputRef.safeParse(json);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new PermanentTaskError(`inputs list s3://${bucket}/${key} line ${lineNo} is not an input reference: ${why}`);
    }
    refs.push(parsed.data);
  }
  return refs;
}

function checkOutputName(name: string): void {
  if (typeof name !== 'string' || name === '' || name.startsWith('/') || name.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new PermanentTaskError(`output name ${JSON.stringify(name)} is not a relative path below the part's output prefix`);
  }
}

async function upload(s3: S3Client, bucket: string, key: string, body: OutputBody, signal: AbortSignal, contentType?: string): Promise<number> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: bytes, ContentType: contentType }), { abortSignal: signal });
    return bytes;
  }
  const counted = countedBody(body);
  const up = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: counted.stream, ContentType: contentType } });
  const onAbort = () => void up.abort().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await up.done();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return counted.bytes();
}

/** A streamed output body as a byte stream that counts what passes through it. */
export function countedBody(body: Readable): { stream: Readable; bytes: () => number } {
  let bytes = 0;
  const stream = Readable.from(
    (async function* () {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string | Uint8Array);
        bytes += buf.length;
        yield buf;
      }
    })(),
    { objectMode: false },
  );
  return { stream, bytes: () => bytes };
}
