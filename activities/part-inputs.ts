import type { S3Client } from '@aws-sdk/client-s3';
import { partInputsKeyOf } from '../common/layout';
import type { InputRef } from '../common/messages';
import { writeJsonLines } from '../common/s3-io';

/**
 * Longest input list a part carries inline in its task message, in bytes of JSON. A longer one
 * (a barrier joining upstreams with many outputs, a stream part of a chatty upstream part) is
 * claim-checked: written to S3, the message carries its key. 32 KiB keeps a packed message of
 * several parts well inside SQS's 256 KiB.
 */
export const INLINE_INPUTS_MAX_BYTES = 32 * 1024;

/** A part's inputs as they travel: inline when small, else by the key of a JSON Lines list in S3. */
export interface PartInputs {
  inputs: InputRef[];
  inputsKey?: string;
}

/** Returns the inputs as they are when small enough, else writes them to S3 and returns their key. Idempotent per part. */
export async function claimCheckInputs(s3: S3Client, bucket: string, jobId: string, stageId: string, part: number, inputs: InputRef[]): Promise<PartInputs> {
  if (Buffer.byteLength(JSON.stringify(inputs)) <= INLINE_INPUTS_MAX_BYTES) return { inputs };
  const inputsKey = partInputsKeyOf(jobId, stageId, part);
  await writeJsonLines(s3, bucket, inputsKey, inputs);
  return { inputs: [], inputsKey };
}
