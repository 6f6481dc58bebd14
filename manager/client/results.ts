import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { jobPrefix, stagesPrefix } from '../../common/layout';
import { eachLimited } from '../../common/concurrency';
import type { OutputRef } from '../../common/messages';
import { readJsonLines } from '../../common/s3-io';

/** One output object of a result entry: a presigned URL, or where it was downloaded. */
export interface ResultOutput {
  key: string;
  bytes: number;
  /** Presigned GET URL (when not downloading). */
  url?: string;
  /** Local file (when downloading). */
  path?: string;
}

/** One line of `results.jsonl`: a part of a final stage, its handler's summary and its outputs. */
export interface ResultEntry {
  stage: string;
  part: number;
  result: unknown;
  outputs: ResultOutput[];
}

interface ResultLine {
  stage: string;
  part: number;
  result?: unknown;
  outputs?: OutputRef[];
}

/** The entries of a results file, outputs without URLs yet. */
export async function readResults(s3: S3Client, bucket: string, key: string): Promise<ResultEntry[]> {
  const out: ResultEntry[] = [];
  for await (const line of readJsonLines<ResultLine>(s3, bucket, key)) {
    out.push({ stage: line.stage, part: line.part, result: line.result ?? null, outputs: (line.outputs ?? []).map((o) => ({ key: o.key, bytes: o.bytes })) });
  }
  return out;
}

/** Adds a presigned GET URL, valid `expiresInSeconds`, to every output. */
export async function presignOutputs(s3: S3Client, bucket: string, entries: ResultEntry[], expiresInSeconds: number): Promise<void> {
  for (const e of entries) {
    for (const o of e.outputs) o.url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: o.key }), { expiresIn: expiresInSeconds });
  }
}

/**
 * Where an output key lands under `dir`: its path below the job's `stages/` prefix
 * (`<stage>/parts/<part>/<name>`), else below the job's prefix, else the whole key. Never outside `dir`.
 */
export function localPathOf(dir: string, jobId: string, key: string): string {
  const stages = stagesPrefix(jobId);
  const job = jobPrefix(jobId);
  const rel = key.startsWith(stages) ? key.slice(stages.length) : key.startsWith(job) ? key.slice(job.length) : key;
  const root = resolve(dir);
  const path = resolve(root, ...rel.split('/').filter((s) => s !== '' && s !== '.'));
  if (path !== root && !path.startsWith(root + sep)) throw new Error(`output key ${key} would be written outside ${dir}`);
  return path;
}

/** Downloads every output into `dir`, streamed, `concurrency` at a time; sets each output's `path`. */
export async function downloadOutputs(s3: S3Client, bucket: string, jobId: string, entries: ResultEntry[], dir: string, concurrency = 8): Promise<number> {
  const outputs = entries.flatMap((e) => e.outputs);
  await eachLimited(outputs, concurrency, async (o) => {
    const path = localPathOf(dir, jobId, o.key);
    await mkdir(dirname(path), { recursive: true });
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
    await pipeline(r.Body as Readable, createWriteStream(path));
    o.path = path;
  });
  return outputs.length;
}

