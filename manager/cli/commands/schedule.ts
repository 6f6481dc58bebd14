import type { Command } from 'commander';
import type { ScheduleInfo } from '../../client';
import { formatTable, formatTimestamp } from '../render/format';
import { processIo, printJson, runCommand, runWithClient, type CliIo } from '../render/io';
import { resolvePipeline } from '../../client/pipeline-source';

/** The table `batchgrid schedule list` prints. */
export function schedulesTable(schedules: ScheduleInfo[]): string {
  return formatTable(
    ['SCHEDULE', 'CRON (UTC)', 'PIPELINE', 'INPUT', 'STATE', 'NEXT RUN (UTC)', 'LAST JOB'],
    schedules.map((s) => [s.scheduleId, s.cron ?? '-', s.pipeline, s.input, s.paused ? 'paused' : 'active', formatTimestamp(s.nextRunAt[0]), s.recentJobIds.at(-1) ?? '-']),
  );
}

export async function scheduleCreateCommand(id: string, file: string, opts: { cron: string; input: string }, io: CliIo = processIo): Promise<number> {
  return runCommand(
    io,
    async (ctx) => {
      const pipeline = await resolvePipeline(file);
      await (await ctx.client()).createSchedule({ scheduleId: id, cron: opts.cron, pipeline, input: opts.input });
      io.out(`schedule ${id} created: pipeline ${pipeline.name} over ${opts.input} on "${opts.cron}"; runs are jobs sched-${id}-<time>\n`);
    },
    { file },
  );
}

export async function scheduleListCommand(opts: { json?: boolean }, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    const schedules = await client.listSchedules();
    if (opts.json) return void printJson(io, { schedules });
    io.out(schedules.length === 0 ? 'no schedules\n' : `${schedulesTable(schedules)}\n`);
  });
}

export async function scheduleDeleteCommand(id: string, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    await client.deleteSchedule(id);
    io.out(`schedule ${id} deleted (jobs it started are not affected)\n`);
  });
}

export async function scheduleTriggerCommand(id: string, io: CliIo = processIo): Promise<number> {
  return runWithClient(io, async (client) => {
    await client.triggerSchedule(id);
    io.out(`schedule ${id} triggered: a job starts now (see \`batchgrid jobs\`)\n`);
  });
}

/** `batchgrid schedule create|list|delete|trigger`: pipelines run on a cron spec (Temporal Schedules). */
export function register(program: Command): void {
  const schedule = program.command('schedule').description('run a pipeline on a cron spec over an S3 input (Temporal Schedules)');
  schedule
    .command('create')
    .description('create a schedule that submits FILE over an S3 input at every cron time')
    .argument('<id>', 'schedule id: 1-20 lowercase letters, digits or dashes')
    .argument('<file>', 'pipeline definition (YAML or JSON)')
    .requiredOption('--cron <expr>', 'cron expression, 5 fields, UTC (e.g. "0 3 * * *")')
    .requiredOption('--input <s3url>', 's3://<bucket>/<prefix> every run reads')
    .action(async (id: string, file: string, opts: { cron: string; input: string }) => {
      process.exitCode = await scheduleCreateCommand(id, file, opts);
    });
  schedule
    .command('list')
    .description('list schedules')
    .option('--json', 'print { schedules } as JSON only')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await scheduleListCommand(opts);
    });
  schedule
    .command('delete')
    .description('delete a schedule (jobs it started are left alone)')
    .argument('<id>', 'schedule id')
    .action(async (id: string) => {
      process.exitCode = await scheduleDeleteCommand(id);
    });
  schedule
    .command('trigger')
    .description('run a schedule now, whatever its cron says')
    .argument('<id>', 'schedule id')
    .action(async (id: string) => {
      process.exitCode = await scheduleTriggerCommand(id);
    });
}
