import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool } from 'pg';
import { ServiceUnavailableError } from '../../common/errors';
import { JOB_ID_PATTERN } from '../../common/ids';
import { inputPrefixOf } from '../../common/layout';
import { getJob } from '../../store/jobs';
import { InvalidOptionError, JobInputError, JobStateError } from './errors';
import { isUnreachable } from './services';

/**
 * Streaming upload of a job's input, for callers that hold a stream rather than local files (the
 * HTTP API, through `BatchGridClient.uploadInput`): the body goes to `jobs/<jobId>/input/<path>` in
 * parts, never held whole in memory; the job is then submitted with
 * `input: s3://<bucket>/jobs/<jobId>/input/` and the same job id.
 */

/** What an upload needs of the client's services. */
export interface UploadDeps {
  db: Pool;
  s3: S3Client;
  bucket: string;
  /** Named in the ServiceUnavailableError when S3 does not answer. */
  s3Endpoint: string;
}

export interface InputUploadOptions {
  /** Multipart part size in bytes: memory held is about (queueSize + 1) × this. Default: 8 MiB; S3's minimum is 5 MiB. */
  partSizeBytes?: number;
  /** Parts uploaded at once. Default: 2. */
  queueSize?: number;
  /** Content-Type stored with the object. Default: none (S3's binary/octet-stream). */
  contentType?: string;
}

export interface UploadedInput {
  jobId: string;
  /** The object's key: `jobs/<jobId>/input/<path>`. */
  key: string;
  /** Bytes stored. */
  bytes: number;
  /** What to submit the job with: `s3://<bucket>/jobs/<jobId>/input/`. */
  input: string;
}

const MIN_PART_BYTES = 5 * 2 ** 20;
const MAX_PATH_CHARS = 900;

/** Why an input path is refused, or undefined when it is fine: relative, `/`-separated, no empty, `.` or `..` segment, no control characters. */
export function inputPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty: name the file, e.g. data/part-1.csv';
  if (path.length > MAX_PATH_CHARS) return `is longer than ${MAX_PATH_CHARS} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'holds a control character or a backslash';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'must be a relative path of names separated by single slashes, without . or .. segments';
  return undefined;
}

/**
 * Streams `body` to `jobs/<jobId>/input/<path>` (multipart, bounded memory). The job must not exist
 * yet: a job's input never changes once it is submitted (JobStateError). A body that ends early is a
 * JobInputError; S3 not answering is a ServiceUnavailableError.
 */
export async function uploadJobInput(deps: UploadDeps, jobId: string, path: string, body: Readable, options: InputUploadOptions = {}): Promise<UploadedInput> {
  const { partSizeBytes = 8 * 2 ** 20, queueSize = 2, contentType } = options;
  if (!Number.isInteger(partSizeBytes) || partSizeBytes < MIN_PART_BYTES) throw new InvalidOptionError(`partSizeBytes must be a whole number ≥ ${MIN_PART_BYTES} (5 MiB, S3's minimum part size).`);
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new InvalidOptionError('queueSize must be a whole number ≥ 1.');
  if (!JOB_ID_PATTERN.test(jobId)) throw new InvalidOptionError(`job id ${JSON.stringify(jobId)} must be 1–48 lowercase letters, digits or dashes, starting with a letter or digit`);
  const problem = inputPathProblem(path);
  if (problem) throw new InvalidOptionError(`input path ${JSON.stringify(path)} ${problem}`);
  const existing = await getJob(deps.db, jobId);
  if (existing) {
    throw new JobStateError(jobId, existing.status, `job ${jobId} already exists (${existing.status}): its input cannot change; upload under a new job id`);
  }

  const prefix = inputPrefixOf(jobId);
  const key = `${prefix}${path}`;
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let bodyError: unknown;
  // Backpressure runs end to end: the upload reads the counter only as fast as parts go out.
  const piping = pipeline(body, counter).catch((err: unknown) => {
    bodyError = err;
  });
  const upload = new Upload({
    client: deps.s3,
    params: { Bucket: deps.bucket, Key: key, Body: counter, ContentType: contentType },
    partSize: partSizeBytes,
    queueSize,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
  } catch (err) {
    counter.destroy();
    await piping;
    if (bodyError !== undefined) throw new JobInputError(path, `the upload of ${path} stopped before its end: ${(bodyError as Error).message ?? bodyError}`, { cause: bodyError });
    if (isUnreachable(err)) throw new ServiceUnavailableError('S3', deps.s3Endpoint, { cause: err });
    throw err;
  }
  await piping;
  return { jobId, key, bytes, input: `s3://${deps.bucket}/${prefix}` };
}
