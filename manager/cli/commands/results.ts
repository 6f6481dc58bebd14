import type { Command } from 'commander';
import { parseDuration } from '../../../pipeline/units';
import type { JobResults } from '../../client';
import { formatBytes } from '../render/format';
import { processIo, printJson, runCommand, type CliIo } from '../render/io';

export interface ResultsCommandOptions {
  download?: string;
  expires?: string;
  json?: boolean;
}

/** What `batchgrid results` prints: one block per result entry, its outputs' URLs or local paths. */
export function resultsText(r: JobResults): string {
  const lines: string[] = [];
  for (const e of r.entries) {
    lines.push(`${e.stage} part ${e.part}${e.result !== null && e.result !== undefined ? `  ${JSON.stringify(e.result)}` : ''}`);
    for (const o of e.outputs) lines.push(`  ${o.key} (${formatBytes(o.bytes)})`, `    ${o.path ?? o.url}`);
  }
  const files = r.entries.reduce((n, e) => n + e.outputs.length, 0);
  lines.push(r.download ? `downloaded ${r.download.files} files to ${r.download.dir}` : `${r.entries.length} results, ${files} outputs`);
  return lines.join('\n');
}

/** `batchgrid results JOB`. */
export async function resultsCommand(jobId: string, opts: ResultsCommandOptions, io: CliIo = processIo): Promise<number> {
  return runCommand(io, async (ctx) => {
    const expiresInSeconds = opts.expires !== undefined ? Math.max(1, Math.round(parseDuration(opts.expires) / 1000)) : undefined;
    const results = await (await ctx.client()).results(jobId, { download: opts.download, expiresInSeconds });
    if (opts.json) return void printJson(io, results);
    io.out(`${resultsText(results)}\n`);
  });
}

export function register(program: Command): void {
  program
    .command('results')
    .description("a finished job's results: each final part's summary and outputs, as presigned URLs or downloaded files")
    .argument('<job>', 'job id')
    .option('--download <dir>', 'download every output into DIR (as <stage>/parts/<part>/<name>)')
    .option('--expires <duration>', 'lifetime of the presigned URLs, e.g. 15m, 1h (default: 1h)')
    .option('--json', 'print { jobId, resultsKey, entries, download? } as JSON only')
    .action(async (jobId: string, opts: ResultsCommandOptions) => {
      process.exitCode = await resultsCommand(jobId, opts);
    });
}
