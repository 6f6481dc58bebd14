import type { S3Client } from '@aws-sdk/client-s3';
import { claimCheckKeyOf } from '../common/layout';
import type { InputRef } from '../common/messages';
import { writeJsonLines } from '../common/s3-io';

export { INLINE_INPUTS_MAX_BYTES } from '../common/layout';

/** A part's inputs as they travel: inline when small, else by the key of a JSON Lines list in S3. */
export interface PartInputs {
  inputs: InputRef[];
  inputsKey?: string;
}

/** Returns the inputs as they are when small enough, else writes them to S3 and returns their key. Idempotent per part. */
export async function claimCheckInputs(s3: S3Client, bucket: string, jobId: string, stageId: string, part: number, inputs: InputRef[]): Promise<PartInputs> {
  const inputsKey = claimCheckKeyOf(jobId, stageId, part, inputs);
  if (inputsKey === undefined) return { inputs };
  await writeJsonLines(s3, bucket, inputsKey, inputs);
  return { inputs: [], inputsKey };
}
