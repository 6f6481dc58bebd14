import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchGridClient } from '../../client';
import type { JobProgressView } from '../../client/progress';
import { isTerminal } from '../../../common/status';
import { jobLine, progressLine, renderProgress } from '../render/progress';
import { processIo, runWithClient, type CliIo } from '../render/io';

export interface WatchOptions {
  /** How often progress is read from Postgres, in ms. Default: 1000. */
  intervalMs?: number;
}

/**
 * Follows a job until it ends: on a terminal, per-stage bars redrawn in place; otherwise one plain
 * line per change (job status, or a stage's status or counts). Returns the final progress.
 */
export async function watchJob(client: BatchGridClient, jobId: string, io: CliIo, options: WatchOptions = {}): Promise<JobProgressView> {
  const intervalMs = options.intervalMs ?? 1000;
  let drawn = 0;
  let lastJob = '';
  const lastStage = new Map<string, string>();
  for (;;) {
    const view = await client.progress(jobId);
    const ended = isTerminal(view.status);
    if (io.isTTY) {
      const lines = renderProgress(view, io.columns);
      // Move to the start of the previous drawing and clear it: the new one replaces it in place.
      io.out(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      for (const s of view.stages) {
        const line = progressLine(jobId, s);
        if (s.status !== 'pending' && lastStage.get(s.stageId) !== line) io.out(`${line}\n`);
        lastStage.set(s.stageId, line);
      }
      if (view.status !== lastJob) io.out(`${jobLine(view)}\n`);
      lastJob = view.status;
    }
    if (ended) return view;
    await sleep(intervalMs);
  }
}

/** Exit code for a finished job: 0 only if it succeeded. */
export const exitCodeOf = (status: string) => (status === 'succeeded' ? 0 : 1);

/** `batchgrid watch JOB`. */
export function register(program: Command): void {
  program
    .command('watch')
    .description('follow a job live until it ends (bars on a terminal, one line per change otherwise); exit 0 only if it succeeded')
    .argument('<job>', 'job id')
    .action(async (jobId: string) => {
      process.exitCode = await runWithClient(processIo, async (client) => {
        const view = await watchJob(client, jobId, processIo);
        if (processIo.isTTY) processIo.out(`${jobLine(view)}\n`);
        return exitCodeOf(view.status);
      });
    });
}
