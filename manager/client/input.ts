import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { eachLimited } from '../../common/concurrency';
import { JobInputError } from './errors';

/** Progress of one file's upload, in bytes. */
export interface UploadProgress {
  /** The local path being uploaded. */
  file: string;
  loaded: number;
  total: number;
}

/** A local file to upload, with its key relative to the job's input prefix. */
export interface LocalFile {
  path: string;
  /** Relative key with `/` separators, e.g. `2024/a.csv`. */
  key: string;
  size: number;
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;

/** `s3://bucket/some/prefix` → { bucket, key }; undefined for anything else. */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const m = S3_URL.exec(url);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/**
 * An `s3://` input as the key prefix the engine reads. Only the configured bucket is accepted: the
 * engine reads inputs and writes results in one bucket. A key that is not a folder (`/`-ended) and
 * names no object is taken as a folder.
 */
export async function resolveS3Input(s3: S3Client, bucket: string, url: string, options: { requireObjects: boolean }): Promise<string> {
  const parsed = parseS3Url(url);
  if (!parsed) throw new JobInputError(url, `input ${url} is not an s3://bucket/prefix URL`);
  if (parsed.bucket !== bucket) {
    throw new JobInputError(
      url,
      `input ${url} is in bucket "${parsed.bucket}", but batchgrid reads inputs from its configured bucket "${bucket}" (BATCHGRID_BUCKET): copy the data there, or give a local path to upload`,
    );
  }
  let prefix = parsed.key;
  if (prefix !== '' && !prefix.endsWith('/')) {
    const isObject = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix })).then(
      () => true,
      (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
        if (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return false;
        throw err;
      },
    );
    if (!isObject) prefix += '/';
  }
  if (options.requireObjects) {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    if (!r.Contents?.length) throw new JobInputError(url, `input ${url} holds no objects`);
  }
  return prefix;
}

/** The files of a local input (a file, or a folder walked recursively), in key order. */
export async function listLocalInput(path: string): Promise<LocalFile[]> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new JobInputError(path, err.code === 'ENOENT' ? `input ${path} does not exist` : `cannot read input ${path}: ${err.message}`, { cause: err });
  });
  if (info.isFile()) return [{ path, key: basename(path), size: info.size }];
  if (!info.isDirectory()) throw new JobInputError(path, `input ${path} is neither a file nor a folder`);
  const files: LocalFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full);
        continue;
      }
      // A symlink counts as the file it points to; links to folders are not followed (no cycles).
      const s = await stat(full);
      if (s.isFile()) files.push({ path: full, key: relative(path, full).split(sep).join('/'), size: s.size });
    }
  };
  await walk(path);
  if (files.length === 0) throw new JobInputError(path, `input folder ${path} holds no files`);
  return files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  /** Files uploaded at once. Default: 4. */
  concurrency?: number;
  /** Multipart part size in bytes (files above it go up in parts). Default: 8 MiB. */
  partSizeBytes?: number;
}

/** Uploads files under `prefix`, streamed (multipart for large files); reports each file's progress, the last report with loaded = total. */
export async function uploadFiles(s3: S3Client, bucket: string, prefix: string, files: LocalFile[], options: UploadOptions = {}): Promise<void> {
  const { onProgress, concurrency = 4, partSizeBytes = 8 * 2 ** 20 } = options;
  await eachLimited(files, concurrency, async (f) => {
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: `${prefix}${f.key}`, Body: createReadStream(f.path), ContentLength: f.size },
      partSize: partSizeBytes,
      queueSize: 4,
    });
    let reported = -1;
    const report = (loaded: number) => {
      if (loaded === reported) return;
      reported = loaded;
      onProgress?.({ file: f.path, loaded, total: f.size });
    };
    if (onProgress) upload.on('httpUploadProgress', (p) => report(Math.min(p.loaded ?? 0, f.size)));
    await upload.done();
    report(f.size);
  });
}
