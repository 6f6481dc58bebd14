import { spawnSync } from 'node:child_process';
import type { JobSummary } from '../../activities/job-state';
import { distPath } from '../../common/paths';
import { formatElapsed, formatTable } from '../../manager/cli/render/format';

/** What the demos (demo.ts, media.ts) print with: lines, headings, the stage timings and `batchgrid report`. */

export const say = (text = '') => process.stdout.write(`${text}\n`);
export const heading = (text: string) => say(`\n== ${text}`);
export const indent = (text: string) => text.replace(/^/gm, '  ');

export function printStageTimings(summary: JobSummary): void {
  const rows = summary.stages.map((s) => [s.stageId, s.status, String(s.partsTotal), String(s.failed), String(s.retried), formatElapsed(s.startedAt - summary.startedAt), formatElapsed(s.finishedAt - s.startedAt)]);
  say(indent(formatTable(['STAGE', 'STATUS', 'PARTS', 'FAILED', 'RETRIED', 'STARTED AT', 'TOOK'], rows)));
}

/** `batchgrid report JOB`, when this build has it (a performance report from Postgres). */
export function printReport(jobId: string): void {
  const r = spawnSync(process.execPath, [distPath('manager/cli/main.js'), 'report', jobId], { encoding: 'utf8' });
  if (r.status === 0) {
    say();
    say(indent(r.stdout.trimEnd()));
  } else {
    say(`  (no performance report: \`batchgrid report ${jobId}\` failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]})`);
  }
}
