import path from 'node:path';
import type { JobSummary } from '../../activities/job-state';
import { config } from '../../common/config';
import { packageRoot } from '../../common/paths';
import type { BatchGridClient } from '../../manager/client';
import { watchJob } from '../../manager/cli/commands/watch';
import { formatElapsed } from '../../manager/cli/render/format';
import { processIo } from '../../manager/cli/render/io';
import type { LocalEngine } from './local-engine';
import { heading, say } from './print';

/** A demo's job, submitted and followed to its end. */
export interface FollowedJob {
  jobId: string;
  summary: JobSummary;
  /** Its Temporal UI page. */
  uiUrl: string;
  /** When submit started and when the job was seen to end (epoch ms). */
  submitted: number;
  ended: number;
}

/**
 * Submits `pipeline` (a file, or definition text, then named by `label`) over the files of `inputDir`, prints live progress until the job ends,
 * and returns it; for a job that did not succeed, prints where to look, sets a failing exit code
 * and returns undefined. Rejects as soon as a process of `engine` dies.
 */
export async function submitAndFollow(client: BatchGridClient, engine: LocalEngine, pipeline: string, inputDir: string, label = path.relative(packageRoot(), pipeline)): Promise<FollowedJob | undefined> {
  const cfg = config();
  heading(`submitting ${label}`);
  const submitted = Date.now();
  const job = await Promise.race([client.submit(pipeline, { input: inputDir }), engine.died]);
  const uiUrl = `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}/namespaces/${cfg.TEMPORAL_NAMESPACE}/workflows/${job.workflowId}`;
  say(`  job ${job.jobId} (input uploaded in ${formatElapsed(Date.now() - submitted)})`);
  say(`  Temporal UI: ${uiUrl}`);

  heading('progress');
  const view = await Promise.race([watchJob(client, job.jobId, processIo), engine.died]);
  const summary = await client.wait(job.jobId);
  const ended = Date.now();
  say(`  job ${view.status} after ${formatElapsed(summary.finishedAt - summary.startedAt)}${summary.error ? `: ${summary.error}` : ''}`);
  if (summary.status !== 'succeeded') {
    process.exitCode = 1;
    say(`  see the processes' logs above, \`batchgrid status ${job.jobId}\` and the Temporal UI`);
    return undefined;
  }
  return { jobId: job.jobId, summary, uiUrl, submitted, ended };
}
