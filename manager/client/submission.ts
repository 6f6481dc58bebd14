import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { listObjects } from '../../common/s3-io';
import { JOB_CLAIM_TTL_MS } from '../../pipeline/limits';
import type { PipelineDef } from '../../pipeline/types';
import { claimJobId, releaseJobClaim, renewJobClaim } from '../../store/jobs';
import type { LocalFile } from './input';

/**
 * The claim a submit takes on its job id before it uploads anything (table job_claims): one
 * caller wins the id, the others are told it is taken, so inputs are never merged. Its holder
 * renews it while uploading; a crashed holder's claim lapses after JOB_CLAIM_TTL_MS.
 */

/** What a submit will run: the definition and its input (an S3 prefix, or local files by key and size). */
export type SubmissionInput = { s3Prefix: string } | { files: readonly LocalFile[] };

/** Hash of a definition and its input: two submits with the same one are the same job (an idempotent resubmit). */
export function submissionFingerprint(def: PipelineDef, bucket: string, input: SubmissionInput): string {
  const what = 's3Prefix' in input ? { s3: `s3://${bucket}/${input.s3Prefix}` } : { files: input.files.map((f) => [f.key, f.size]) };
  return createHash('sha256').update(JSON.stringify({ definition: def, input: what })).digest('hex');
}

/** A claim this submit holds, kept alive until stopped. */
export interface HeldClaim {
  jobId: string;
  token: string;
  /** Stops renewing; resolves to false when the claim lapsed and may have been taken over meanwhile. */
  stop(): Promise<boolean>;
  /** Stops renewing and gives the id back. */
  release(): Promise<void>;
}

/** Claims `jobId`, or returns undefined when another submit holds it (or the job exists). Renews every third of the TTL. */
export async function takeClaim(db: Pool, jobId: string, fingerprint: string, ttlMs = JOB_CLAIM_TTL_MS): Promise<HeldClaim | undefined> {
  const token = randomUUID();
  if (!(await claimJobId(db, { jobId, token, fingerprint }, ttlMs))) return undefined;
  let held = true;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewJobClaim(db, jobId, token).then(
      (ok) => void (held &&= ok),
      () => undefined, // a missed renewal is retried at the next tick; the TTL allows two
    );
  }, Math.max(1, Math.floor(ttlMs / 3)));
  timer.unref();
  const stop = async () => {
    clearInterval(timer);
    await renewing;
    return held && (await renewJobClaim(db, jobId, token));
  };
  return {
    jobId,
    token,
    stop,
    async release() {
      clearInterval(timer);
      await renewing;
      await releaseJobClaim(db, jobId, token);
    },
  };
}

/** Deletes every object under `prefix` (a job's input left by a submit that did not finish); returns how many. */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let keys: { Key: string }[] = [];
  let deleted = 0;
  const flush = async () => {
    if (keys.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    deleted += keys.length;
    keys = [];
  };
  for await (const o of listObjects(s3, bucket, prefix)) {
    keys.push({ Key: o.key });
    if (keys.length === 1000) await flush(); // DeleteObjects takes at most 1,000 keys
  }
  await flush();
  return deleted;
}

/** gRPC status codes after which Temporal has surely not started the workflow: the request was refused as such. */
const REFUSED_CODES = new Set([3, 5, 6, 7, 8, 9, 11, 12, 16]);

/**
 * Whether a failed workflow start surely started nothing: Temporal refused the request (bad
 * argument, unknown namespace, payload too large, …), or it failed before any call (no gRPC
 * code anywhere in its causes). A timeout or a dropped connection is not sure.
 */
export function startSurelyFailed(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | null | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number') return REFUSED_CODES.has(e.code);
  }
  return true;
}
