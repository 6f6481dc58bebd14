import type { Command } from 'commander';
import type { JobDetails } from '../../client';
import type { JobProgressView } from '../../client/progress';
import { cacheOf, cacheTable } from '../../reports';
import { formatTimestamp } from '../render/format';
import { processIo, printJson, runWithClient, type CliIo } from '../render/io';
import { jobLine, stageTable } from '../render/progress';

/** What `batchgrid status` prints: the job, then its stages. */
export function statusText(job: JobDetails, progress: JobProgressView): string {
  const lines = [
    jobLine(progress),
    `  pipeline ${job.pipelineName}, fleet ${job.fleet}, priority ${job.priority}, concurrency ${job.concurrency}${tunedText(job)}, input s3://${job.bucket}/${job.inputPrefix}`,
    `  created ${formatTimestamp(job.createdAt)}${job.startAt ? `, start at ${formatTimestamp(job.startAt)}` : ''}, started ${formatTimestamp(job.startedAt)}, finished ${formatTimestamp(job.finishedAt)} (UTC)`,
  ];
  if (job.parentJobId) lines.push(`  retries the failed parts of job ${job.parentJobId}`);
  lines.push('', stageTable(progress));
  // A finished stage with `cache: true` keeps its cache counts in its stage run's summary (the job's `stages`); listed in pipeline order.
  const cache = cacheTable(progress.stages.map((s) => ({ stageId: s.stageId, ...cacheOf(job.stages.find((r) => r.stageId === s.stageId)?.summary) })));
  if (cache) lines.push('', cache);
  return lines.join('\n');
}

/** What `batchgrid tune` changed that the other fields do not show. */
function tunedText(job: JobDetails): string {
  const tuned = job.concurrency !== job.definition.concurrency || job.priority !== (job.definition.priority ?? 1) || job.tolerate !== null;
  if (!tuned) return '';
  const tolerate = job.tolerate === null ? '' : `, tolerates ${job.tolerate.failedPercent !== undefined ? `${job.tolerate.failedPercent}%` : job.tolerate.failedParts} failed parts a stage`;
  return ` (tuned${tolerate})`;
}

/** `batchgrid status JOB`. */
export async function statusCommand(jobId: string, opts: { json?: boolean }, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const [job, progress] = await Promise.all([client.get(jobId), client.progress(jobId)]);
    if (opts.json) return void printJson(io, { job, progress });
    io.out(`${statusText(job, progress)}\n`);
  });
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show a job: its status and each stage's parts, throughput and ETA")
    .argument('<job>', 'job id')
    .option('--json', 'print { job, progress } as JSON only')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      process.exitCode = await statusCommand(jobId, opts);
    });
}
