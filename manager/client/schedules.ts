import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleSummary } from '@temporalio/client';
import { startSearchAttributes } from '../../common/search-attributes';
import type { PipelineDef } from '../../pipeline/types';
import type { BatchJobInput } from '../../workflows/batch-job';
import { jobIdFromWorkflowId } from '../../workflows/batch-job';
import { InvalidOptionError, ScheduleError } from './errors';

/**
 * Schedule ids: the jobs a schedule starts are named `sched-<id>-<time of the run>` (at most 48
 * characters), so the id is kept short enough for every run to have its own job id.
 */
export const SCHEDULE_ID_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** A schedule as `listSchedules()` reports it. */
export interface ScheduleInfo {
  scheduleId: string;
  /** The cron expression it was created with. */
  cron?: string;
  pipeline: string;
  /** `s3://bucket/prefix` every run reads. */
  input: string;
  paused: boolean;
  /** The next runs Temporal plans (a few). */
  nextRunAt: Date[];
  /** Job ids of the latest runs, oldest first. */
  recentJobIds: string[];
}

/** What the schedule module needs from the client. */
export interface ScheduleDeps {
  temporal: Client;
  taskQueue: string;
  bucket: string;
}

/** Memo kept on each schedule: what list shows, and which task queue (installation) it belongs to. */
interface ScheduleMemo {
  batchgrid: 1;
  taskQueue: string;
  cron: string;
  pipeline: string;
  input: string;
}

/** Workflow id of a schedule's runs; Temporal appends `-<time of the run>`. */
export const scheduleWorkflowId = (scheduleId: string) => `job-sched-${scheduleId}`;

/** Creates a Temporal Schedule that starts `batchJob` over `inputPrefix` on `cron`. */
export async function createSchedule(
  deps: ScheduleDeps,
  req: { scheduleId: string; cron: string; timezone?: string; pipeline: PipelineDef; inputPrefix: string },
): Promise<void> {
  if (!SCHEDULE_ID_PATTERN.test(req.scheduleId)) {
    throw new InvalidOptionError(`schedule id ${JSON.stringify(req.scheduleId)} must be 1–20 lowercase letters, digits or dashes, starting with a letter`);
  }
  if (req.cron.trim() === '') throw new InvalidOptionError('cron expression is empty');
  const args: [BatchJobInput] = [{ pipeline: req.pipeline, bucket: deps.bucket, inputPrefix: req.inputPrefix }];
  const memo: ScheduleMemo = { batchgrid: 1, taskQueue: deps.taskQueue, cron: req.cron, pipeline: req.pipeline.name, input: `s3://${deps.bucket}/${req.inputPrefix}` };
  try {
    await deps.temporal.schedule.create({
      scheduleId: req.scheduleId,
      spec: { cronExpressions: [req.cron], timezone: req.timezone },
      action: {
        type: 'startWorkflow',
        workflowType: 'batchJob',
        workflowId: scheduleWorkflowId(req.scheduleId),
        taskQueue: deps.taskQueue,
        args,
        typedSearchAttributes: startSearchAttributes({ pipeline: req.pipeline.name, fleet: req.pipeline.fleet, status: 'running' }),
        memo: { pipeline: req.pipeline.name, input: memo.input, schedule: req.scheduleId },
      },
      memo: memo as unknown as Record<string, unknown>,
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleError(req.scheduleId, 'exists', `schedule ${req.scheduleId} already exists: delete it first to replace it`, { cause: err });
    const message = (err as Error).message ?? '';
    if (/invalid|cron|parse/i.test(message)) throw new InvalidOptionError(`schedule ${req.scheduleId}: ${message}`);
    throw err;
  }
}

/** The batchgrid schedules of this task queue. Temporal lists through its visibility store: a new schedule may take a moment to show. */
export async function listSchedules(deps: ScheduleDeps): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for await (const s of deps.temporal.schedule.list()) {
    const memo = s.memo as Partial<ScheduleMemo> | undefined;
    if (memo?.batchgrid !== 1 || memo.taskQueue !== deps.taskQueue) continue;
    out.push(toInfo(s, memo));
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

function toInfo(s: ScheduleSummary, memo: Partial<ScheduleMemo>): ScheduleInfo {
  return {
    scheduleId: s.scheduleId,
    cron: memo.cron,
    pipeline: memo.pipeline ?? '',
    input: memo.input ?? '',
    paused: s.state.paused,
    nextRunAt: s.info.nextActionTimes,
    recentJobIds: s.info.recentActions.map((a) => jobIdFromWorkflowId(a.action.workflow.workflowId)),
  };
}

/** Runs a schedule's action now, whatever its spec says; returns when Temporal has accepted it. */
export async function triggerSchedule(deps: ScheduleDeps, scheduleId: string): Promise<void> {
  await withSchedule(scheduleId, () => deps.temporal.schedule.getHandle(scheduleId).trigger());
}

/** Deletes a schedule; jobs it started are not touched. */
export async function deleteSchedule(deps: ScheduleDeps, scheduleId: string): Promise<void> {
  await withSchedule(scheduleId, () => deps.temporal.schedule.getHandle(scheduleId).delete());
}

async function withSchedule<T>(scheduleId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new ScheduleError(scheduleId, 'not-found', `schedule ${scheduleId} not found`, { cause: err });
    throw err;
  }
}
