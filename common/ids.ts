import { randomBytes } from 'node:crypto';

/** A new job id: sortable by time, short, safe in queue names, S3 keys and workflow ids. */
export function newJobId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14); // yyyymmddhhmmss
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export const JOB_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** Workflow id of a job. */
export const workflowIdOf = (jobId: string): string => `job-${jobId}`;
