import { ApplicationFailure, Client, Connection, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Readable } from 'node:stream';
import type { Pool } from 'pg';
import type { JobSummary } from '../../activities/job-state';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { JobNotFoundError, ServiceUnavailableError } from '../../common/errors';
import { JOB_ID_PATTERN, newJobId, workflowIdOf } from '../../common/ids';
import { inputPrefixOf, resultsKeyOf } from '../../common/layout';
import { gridStatus, listWorkerStats, scaleFleet, startAutoscaler, stopAutoscaler, type FleetStatus, type GridDeps, type ScaleResult, type WorkerStats } from '../../grid/service';
import type { FleetDef } from '../../grid/types';
import { isTerminal, type JobStatus } from '../../common/status';
import { JOB_CLAIM_TTL_MS } from '../../pipeline/limits';
import type { PipelineDef } from '../../pipeline/types';
import { LIMITS } from '../../pipeline/schema';
import { createPool } from '../../store/db';
import {
  completeJobClaim,
  deleteUnstartedJob,
  getJob,
  getJobClaim,
  listJobs,
  releaseJobClaim,
  setJobStatus,
  type Job,
} from '../../store/jobs';
import { jobAggregates } from '../../store/aggregates';
import { jobCharts, listParts, type JobCharts } from '../../store/parts';
import { jobProgress, jobsProgress } from '../../store/progress';
import { closeOpenStageRuns, getStageRuns, type StageRun } from '../../store/stage-runs';
import { succeededParts } from '../../store/task-runs';
import type { BatchJobOptions, batchJob } from '../../workflows/batch-job';
import { pauseSignal, resumeSignal, tuneUpdate } from '../../workflows/batch-job';
import { compileTune, type JobTune } from '../../pipeline/tune';
import { launchJob, type LaunchRequest } from '../launch';
import { fleetCostReport, jobReport, type FleetCost, type JobReport, type JobReportOptions } from '../reports';
import { decodeCursor, decodePartCursor, encodeCursor, encodePartCursor, type PartPage, type PartsOptions } from './cursor';
import { InvalidOptionError, JobIdTakenError, JobInputError, JobStartError, JobStateError } from './errors';
import { listLocalInput, resolveS3Input, uploadFiles, type UploadProgress } from './input';
import { resolvePipeline, type PipelineInput } from './pipeline-source';
import type { Logger } from '../../common/logger';
import type { TaskRegistry } from '../../worker/registry';
import { replayPart, type ReplayResult } from '../../worker/replay';
import { partDetails, type PartDetails } from './part';
import { stageView, type JobProgressView, type StageProgressView } from './progress';
import { downloadOutputs, presignOutputs, readResults, type ResultEntry } from './results';
import * as schedules from './schedules';
import { deletePrefix, startSurelyFailed, submissionFingerprint, takeClaim, type SubmissionInput } from './submission';
import { uploadJobInput, type InputUploadOptions, type UploadedInput } from './upload';
import { isUnreachable, reaching } from './services';

/** How `BatchGridClient.connect` reaches the services; anything not given comes from the configuration (environment). */
export interface BatchGridClientOptions {
  /** Postgres pool. Default: a pool on `databaseUrl`, ended by `close()`. */
  db?: Pool;
  /** Used when no `db` is given. Default: DATABASE_URL. */
  databaseUrl?: string;
  /** Temporal client. Default: a connection to `temporalAddress` (namespace TEMPORAL_NAMESPACE), closed by `close()`. */
  temporal?: Client;
  /** host:port of Temporal, used when no `temporal` is given. Default: TEMPORAL_ADDRESS. */
  temporalAddress?: string;
  /** S3/SQS clients. Default: clients on the configured endpoints, destroyed by `close()`. */
  aws?: AwsClients;
  /** Task queue of the orchestrator. Default: BATCHGRID_TASK_QUEUE. */
  taskQueue?: string;
  /** Bucket for inputs and results. Default: BATCHGRID_BUCKET. */
  bucket?: string;
  /** Prefix of the engine's queue names. Default: BATCHGRID_QUEUE_PREFIX. */
  queuePrefix?: string;
  /** How long to wait for Temporal to answer when connecting, in ms. Default: 5000. */
  connectTimeoutMs?: number;
}

export interface SubmitOptions {
  /** A local file or folder (uploaded to `jobs/<jobId>/input/`, relative paths kept), or `s3://<configured bucket>/prefix` (read in place). */
  input: string;
  /** Start later (Temporal start delay). Default: now. */
  startAt?: Date;
  /**
   * Job id (lowercase letters, digits, dashes; max 48), claimed before anything is uploaded. A
   * second submit with the same id, definition and input returns that job and uploads nothing;
   * one while the first is still uploading, or with another definition or input, is refused
   * (JobIdTakenError). Default: a new time-sortable id.
   */
  jobId?: string;
  /** The job's priority: its weight in its fleets' fair share, 1–100. Default: the pipeline's `priority` (1 when it has none). */
  priority?: number;
  /** Called as local files upload; the last call for a file has loaded = total. */
  onProgress?: (progress: UploadProgress) => void;
  /** Engine tuning for this job (heartbeat timeout of stage activities, packing, overdue slack). Default: the engine's. */
  jobOptions?: BatchJobOptions;
}

/** `tune`: what to change in a running job (at least one). */
export interface TuneRequest {
  concurrency?: number;
  priority?: number;
  /** A count of failed parts (or its digits, "3") or a percentage ("0.5%"). */
  tolerate?: number | string;
}

export interface SubmitResult {
  jobId: string;
  workflowId: string;
  status: JobStatus;
  /** False when the job already existed (idempotent resubmit). */
  created: boolean;
}

/** A job row with its stage runs. */
export interface JobDetails extends Job {
  stages: StageRun[];
}

export interface ListOptions {
  pipeline?: string;
  status?: JobStatus | JobStatus[];
  /** Only jobs on this fleet. */
  fleet?: string;
  /** Only jobs whose id starts with this text. */
  idPrefix?: string;
  /** Add each job's per-stage progress (one query for the page). Default: false. */
  withProgress?: boolean;
  /** Page size. Default: 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface JobPage {
  jobs: (Job & { progress?: StageProgressView[] })[];
  /** Present when there may be more jobs: pass it as `cursor`. */
  nextCursor?: string;
}

export interface ResultsOptions {
  /** Download every output into this folder (streamed) instead of returning URLs. */
  download?: string;
  /** Lifetime of the presigned URLs, in seconds. Default: 3600. */
  expiresInSeconds?: number;
}

export interface JobResults {
  jobId: string;
  /** S3 key of `results.jsonl`. */
  resultsKey: string;
  entries: ResultEntry[];
  /** The folder outputs were downloaded to, and how many files. */
  download?: { dir: string; files: number };
}

export interface RetryOptions {
  /** Id of the retry job (idempotent like submit's). Default: a new id. */
  jobId?: string;
}

export interface CreateScheduleOptions {
  /** 1–20 lowercase letters, digits or dashes; runs become jobs `sched-<id>-<time>`. */
  scheduleId: string;
  /** Cron expression (5 fields, UTC unless `timezone`), e.g. `0 3 * * *`. */
  cron: string;
  /** IANA time zone of the cron expression. Default: UTC. */
  timezone?: string;
  pipeline: PipelineInput;
  /** `s3://<configured bucket>/prefix` every run reads (a schedule cannot upload). */
  input: string;
}

/** What `connect` hands the constructor: the services, and how to release what it opened. */
interface ConnectedServices {
  db: Pool;
  temporal: Client;
  aws: AwsClients;
  taskQueue: string;
  bucket: string;
  temporalAddress: string;
  s3Endpoint: string;
  owned: (() => Promise<void> | void)[];
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** How long `ping` waits for Temporal, in ms. */
const PING_DEADLINE_MS = 3000;

/**
 * The batchgrid client library: submits pipelines, follows and controls jobs, fetches results,
 * manages schedules. The CLI and the HTTP API are thin layers over it.
 */
export class BatchGridClient {
  // Private at run time too: callers go through the methods, never around them to the pools.
  readonly #db: Pool;
  readonly #temporal: Client;
  readonly #aws: AwsClients;
  readonly #taskQueue: string;
  readonly #bucket: string;
  readonly #temporalAddress: string;
  readonly #s3Endpoint: string;
  readonly #owned: (() => Promise<void> | void)[];
  #closed = false;

  private constructor(services: ConnectedServices) {
    this.#db = services.db;
    this.#temporal = services.temporal;
    this.#aws = services.aws;
    this.#taskQueue = services.taskQueue;
    this.#bucket = services.bucket;
    this.#temporalAddress = services.temporalAddress;
    this.#s3Endpoint = services.s3Endpoint;
    this.#owned = services.owned;
  }

  /** Connects to Postgres and Temporal (checking both answer) and prepares AWS clients; a service that does not answer is a ServiceUnavailableError. */
  static async connect(options: BatchGridClientOptions = {}): Promise<BatchGridClient> {
    const cfg = config();
    const owned: (() => Promise<void> | void)[] = [];
    try {
      const db = options.db ?? createPool(options.databaseUrl ?? cfg.DATABASE_URL, { max: 4 });
      if (!options.db) owned.push(() => db.end());
      await db.query('SELECT 1');

      let temporal = options.temporal;
      const temporalAddress = (temporal?.connection as Connection | undefined)?.options?.address ?? options.temporalAddress ?? cfg.TEMPORAL_ADDRESS;
      if (!temporal) {
        const connection = await Connection.connect({ address: temporalAddress, connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS }).catch((err: unknown) => {
          throw new ServiceUnavailableError('Temporal', temporalAddress, { cause: err });
        });
        owned.push(() => connection.close());
        temporal = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
      }

      const aws = options.aws ?? createAwsClients(cfg);
      if (!options.aws) owned.push(() => destroyAwsClients(aws));
      return new BatchGridClient({
        db,
        temporal,
        aws,
        taskQueue: options.taskQueue ?? cfg.BATCHGRID_TASK_QUEUE,
        bucket: options.bucket ?? cfg.BATCHGRID_BUCKET,
        temporalAddress,
        s3Endpoint: cfg.endpoints.s3 ?? 'the default AWS S3 endpoint',
        owned,
      });
    } catch (err) {
      await closeAll(owned);
      throw err;
    }
  }

  /** Releases what `connect` opened (injected clients are left alone). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeAll(this.#owned);
  }

  /**
   * Submits a pipeline over an input: claims the job id (so no other submit can use it), uploads
   * a local input, records the job and starts its workflow. An invalid pipeline is a
   * PipelineValidationError listing every problem (sizes included); an id held by another submit,
   * or naming a job with another definition or input, is a JobIdTakenError; a workflow Temporal
   * refused to start is rolled back (JobStartError), so the id can be submitted again.
   */
  async submit(pipeline: PipelineInput, options: SubmitOptions): Promise<SubmitResult> {
    const def = withPriority(await resolvePipeline(pipeline), options.priority);
    if (options.jobId !== undefined && !JOB_ID_PATTERN.test(options.jobId)) {
      throw new InvalidOptionError(`job id ${JSON.stringify(options.jobId)} must be 1–48 lowercase letters, digits or dashes, starting with a letter or digit`);
    }
    if (options.startAt !== undefined && Number.isNaN(options.startAt.getTime())) throw new InvalidOptionError('startAt is not a valid date');
    if (options.jobId !== undefined) {
      const existing = await getJob(this.#db, options.jobId);
      if (existing) return this.resubmitted(existing, def, options.input);
    }
    const jobId = options.jobId ?? newJobId();
    const input = await this.resolveInput(options.input);
    const claim = await takeClaim(this.#db, jobId, submissionFingerprint(def, this.#bucket, input));
    if (!claim) {
      // Lost to another submit: an idempotent resubmit if that one has finished, else refused.
      const existing = await getJob(this.#db, jobId);
      if (existing) return this.resubmitted(existing, def, options.input);
      throw new JobIdTakenError(jobId, 'another submit holds it and is uploading its input');
    }
    let inputPrefix: string;
    try {
      inputPrefix = await this.placeInput(jobId, input, options);
      if (!(await claim.stop())) throw new JobIdTakenError(jobId, `this submit's claim lapsed while uploading (not renewed for ${JOB_CLAIM_TTL_MS / 1000} s)`);
    } catch (err) {
      await claim.release().catch(() => undefined);
      throw err;
    }
    const req: LaunchRequest = { jobId, pipeline: def, inputPrefix, startAt: options.startAt, options: options.jobOptions };
    try {
      const result = await this.launch(req);
      await completeJobClaim(this.#db, jobId, claim.token);
      return result;
    } catch (err) {
      if (await this.rolledBack(jobId, err, 'files' in input ? inputPrefix : undefined)) throw new JobStartError(jobId, { cause: err });
      throw err;
    }
  }

  /** The job and its stage runs; JobNotFoundError when unknown. */
  async get(jobId: string): Promise<JobDetails> {
    const job = await this.mustGet(jobId);
    return { ...job, stages: await getStageRuns(this.#db, jobId) };
  }

  /**
   * A job whose row says it is under way but whose workflow ended outside batchgrid (terminated,
   * timed out, failed or cancelled in Temporal) is recorded as ended, with the reason, so it does
   * not show `running` for ever. Best effort: when Temporal does not answer, the row stays as it is.
   */
  private async reconcile(job: Job): Promise<Job> {
    if (isTerminal(job.status) || notStartedYet(job)) return job;
    let state: { status: string; closedAt?: Date } | undefined;
    try {
      const d = await this.handleOf(job).describe();
      state = { status: d.status.name, closedAt: d.closeTime };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) return job;
      // A job row whose workflow never started is `scheduled` until a resubmit starts it.
      if (job.status === 'scheduled') return job;
      state = { status: 'NOT_FOUND' };
    }
    if (state.status === 'RUNNING') return job;
    const status: JobStatus = state.status === 'CANCELLED' ? 'cancelled' : 'failed';
    const error = `the job's workflow ${job.workflowId} ended outside batchgrid (Temporal status ${state.status}) before the job recorded its end`;
    await setJobStatus(this.#db, job.jobId, status, { error, finishedAt: state.closedAt ?? new Date() });
    await closeOpenStageRuns(this.#db, job.jobId, status === 'cancelled' ? 'cancelled' : 'failed', error);
    return (await getJob(this.#db, job.jobId)) ?? job;
  }

  /** Jobs newest first, filtered, one page at a time. */
  async list(options: ListOptions = {}): Promise<JobPage> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidOptionError(`limit must be a whole number between 1 and 1000 (got ${limit})`);
    const before = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    const { pipeline, status, fleet, idPrefix } = options;
    const rows = await listJobs(this.#db, { pipeline, status, fleet, idPrefix, limit: limit + 1, before });
    const reconciled = await Promise.all(rows.slice(0, limit).map((j) => this.reconcile(j)));
    const last = reconciled[reconciled.length - 1];
    const jobs = options.withProgress ? await this.withProgress(reconciled) : reconciled;
    return rows.length > limit && last ? { jobs, nextCursor: encodeCursor(last) } : { jobs };
  }

  private async withProgress(jobs: Job[]): Promise<(Job & { progress: StageProgressView[] })[]> {
    const all = await jobsProgress(this.#db, jobs.map((j) => j.jobId));
    const now = Date.now();
    return jobs.map((j) => {
      const counts = all.get(j.jobId) ?? [];
      return { ...j, progress: j.definition.stages.map((st) => { 
        const c = counts.find((x) => x.stageId === st.id);
        return stageView(st, c, c && { ...c, startedAt: c.startedAt ?? null, finishedAt: c.finishedAt ?? null }, now);
      }) };
    });
  }

  /** A page of a job's parts (latest attempt of each) in (stage, part) order, filtered by stage and status; `nextCursor` when there may be more. */
  async parts(jobId: string, options: PartsOptions = {}): Promise<PartPage> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidOptionError(`limit must be a whole number between 1 and 1000 (got ${limit})`);
    await this.mustGet(jobId);
    const after = options.cursor !== undefined ? decodePartCursor(options.cursor) : undefined;
    const rows = await listParts(this.#db, jobId, { stageId: options.stageId, status: options.status, limit: limit + 1, after });
    const parts = rows.slice(0, limit);
    const last = parts[parts.length - 1];
    return rows.length > limit && last ? { parts, nextCursor: encodePartCursor(last) } : { parts };
  }

  /** A job's report as chart series: parts finished over time per stage, run-time and queue-wait histograms, per-worker busy time. */
  async charts(jobId: string, options: { buckets?: number } = {}): Promise<JobCharts> {
    await this.mustGet(jobId);
    return jobCharts(this.#db, jobId, options);
  }

  /** Fleet workers (those up; `all`: stopped and lost too), most recently seen first, with their load. */
  async workers(options: { fleet?: string; all?: boolean } = {}): Promise<WorkerStats[]> {
    return listWorkerStats(this.#db, options);
  }

  /** Per-stage counts, throughput and ETA from Postgres, with the job's status; every stage of the pipeline is listed. */
  async progress(jobId: string): Promise<JobProgressView> {
    const job = await this.mustGet(jobId);
    const [counts, runs] = await Promise.all([jobProgress(this.#db, jobId), getStageRuns(this.#db, jobId)]);
    const now = Date.now();
    return {
      jobId,
      pipeline: job.pipelineName,
      status: job.status,
      createdAt: job.createdAt,
      startAt: job.startAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      error: job.error,
      stages: job.definition.stages.map((s) =>
        stageView(
          s,
          counts.find((c) => c.stageId === s.id),
          runs.find((r) => r.stageId === s.id),
          now,
        ),
      ),
    };
  }

  /** Waits for the job to end and returns its summary, whether it succeeded, failed or was cancelled. */
  async wait(jobId: string): Promise<JobSummary> {
    const job = await this.mustGet(jobId);
    try {
      return await this.temporalCall(() => this.handleOf(job).result());
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === 'JobFailed' && cause.details?.[0]) return cause.details[0] as JobSummary;
      }
      if (err instanceof WorkflowFailedError || err instanceof WorkflowNotFoundError) {
        const summary = summaryOf(await this.mustGet(jobId));
        if (summary) return summary;
      }
      throw err;
    }
  }

  /** Reads `results.jsonl` of a succeeded job: entries with presigned URLs, or with local paths after downloading every output. */
  async results(jobId: string, options: ResultsOptions = {}): Promise<JobResults> {
    const job = await this.mustGet(jobId);
    if (!isTerminal(job.status)) {
      throw new JobStateError(jobId, job.status, `job ${jobId} is ${job.status}: results are written when it finishes (follow it with \`batchgrid watch ${jobId}\`)`);
    }
    if (job.status !== 'succeeded') {
      throw new JobStateError(jobId, job.status, `job ${jobId} ${job.status}: it wrote no results${job.error ? ` (${job.error})` : ''}`);
    }
    const resultsKey = (job.summary as JobSummary | null)?.resultsKey ?? resultsKeyOf(jobId);
    return reaching('S3', this.#s3Endpoint, async () => {
      const entries = await readResults(this.#aws.s3, job.bucket, resultsKey);
      if (options.download !== undefined) {
        const files = await downloadOutputs(this.#aws.s3, job.bucket, jobId, entries, options.download);
        return { jobId, resultsKey, entries, download: { dir: options.download, files } };
      }
      await presignOutputs(this.#aws.s3, job.bucket, entries, options.expiresInSeconds ?? 3600);
      return { jobId, resultsKey, entries };
    });
  }

  /** The handler results of a stage's succeeded parts, in part order, streamed from Postgres (any stage, not only the final ones); JobNotFoundError when the job is unknown, JobStateError once it is compacted. */
  async *partResults(jobId: string, stageId: string): AsyncGenerator<{ part: number; result: unknown }> {
    const job = await this.mustGet(jobId);
    if (await jobAggregates(this.#db, jobId)) {
      throw new JobStateError(
        jobId,
        job.status,
        `job ${jobId} was compacted: its parts' results are no longer stored one by one (its final stages' results are in results.jsonl: \`batchgrid results ${jobId}\`)`,
      );
    }
    for await (const { part, result } of succeededParts(this.#db, jobId, stageId)) yield { part, result };
  }

  /** Cancels a job: parts in flight are abandoned, no new part is sent, the job ends `cancelled`. */
  async cancel(jobId: string): Promise<void> {
    const job = await this.mustBeActive(jobId, 'cancel');
    if (notStartedYet(job)) {
      // A delayed workflow has not run yet: nothing in it could record the cancellation, so end it here.
      await this.temporalCall(() => this.handleOf(job).terminate('cancelled before it started'));
      await setJobStatus(this.#db, jobId, 'cancelled', { error: 'cancelled before it started' });
      return;
    }
    await this.signalling(job, async (h) => void (await h.cancel()));
  }

  /** Pauses a running job: parts in flight finish, no new part is sent until `resume`. */
  async pause(jobId: string): Promise<void> {
    const job = await this.mustBeActive(jobId, 'pause');
    if (notStartedYet(job)) {
      throw new JobStateError(jobId, job.status, `job ${jobId} has not started yet (it starts at ${job.startAt!.toISOString()}): there is nothing to pause; cancel it instead`);
    }
    await this.signalling(job, (h) => h.signal(pauseSignal));
  }

  /** Resumes a paused job. */
  async resume(jobId: string): Promise<void> {
    const job = await this.mustBeActive(jobId, 'resume');
    if (notStartedYet(job)) throw new JobStateError(jobId, job.status, `job ${jobId} has not started yet: there is nothing to resume`);
    await this.signalling(job, (h) => h.signal(resumeSignal));
  }

  /**
   * Retunes a running (or paused) job: its window (`concurrency`), `priority` and tolerated
   * failures (`tolerate`: a count or a percentage, replacing every stage's). Sent as the workflow's
   * `tune` update, so the change is in the job's history; stages apply it within about a second.
   * Returns what was set. A bad request is an InvalidOptionError naming every problem.
   */
  async tune(jobId: string, request: TuneRequest): Promise<JobTune> {
    const r = compileTune(request);
    if (!r.ok) throw new InvalidOptionError(`cannot tune job ${jobId}: ${r.problems.join('; ')}`);
    const job = await this.mustBeActive(jobId, 'tune');
    if (notStartedYet(job)) throw new JobStateError(jobId, job.status, `job ${jobId} has not started yet (it starts at ${job.startAt!.toISOString()}): tune it once it runs`);
    let tune: JobTune | undefined;
    try {
      await this.signalling(job, async (h) => void (tune = await h.executeUpdate(tuneUpdate, { args: [request] })));
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError)) throw err;
      const now = await this.mustGet(jobId);
      throw new JobStateError(jobId, now.status, (err.cause as Error | undefined)?.message ?? err.message);
    }
    return tune!;
  }

  /**
   * Starts a new job (parent = `jobId`) over only the finally failed parts of a finished job, and
   * what they feed downstream; no part that succeeded in the parent runs again.
   */
  async retryFailed(jobId: string, options: RetryOptions = {}): Promise<SubmitResult> {
    const parent = await this.mustGet(jobId);
    if (!isTerminal(parent.status)) {
      throw new JobStateError(jobId, parent.status, `job ${jobId} is ${parent.status}: retry it once it has finished`);
    }
    if (parent.status === 'cancelled') {
      throw new JobStateError(jobId, parent.status, `job ${jobId} was cancelled: parts it never sent would not run in a retry; submit it again instead`);
    }
    if (options.jobId !== undefined) {
      if (!JOB_ID_PATTERN.test(options.jobId)) throw new InvalidOptionError(`job id ${JSON.stringify(options.jobId)} must be 1–48 lowercase letters, digits or dashes`);
      const existing = await getJob(this.#db, options.jobId);
      if (existing) {
        if (existing.parentJobId !== jobId) throw new InvalidOptionError(`job id ${options.jobId} is already taken by another job`);
        return this.ensureStarted(existing);
      }
    }
    const failed = (await jobProgress(this.#db, jobId)).reduce((n, s) => n + s.failed, 0);
    if (failed === 0) throw new JobStateError(jobId, parent.status, `job ${jobId} has no failed parts: nothing to retry`);
    return this.launch({ jobId: options.jobId ?? newJobId(), pipeline: parent.definition, inputPrefix: parent.inputPrefix, retryOf: jobId }, parent.bucket);
  }

  /** Creates a Temporal Schedule that submits the pipeline over an S3 input on a cron spec. */
  async createSchedule(options: CreateScheduleOptions): Promise<void> {
    const pipeline = await resolvePipeline(options.pipeline);
    if (!options.input.startsWith('s3://')) {
      throw new JobInputError(options.input, `a schedule reads its input from S3 at every run: give s3://${this.#bucket}/<prefix> (upload the data there first), not ${options.input}`);
    }
    const inputPrefix = await reaching('S3', this.#s3Endpoint, () => resolveS3Input(this.#aws.s3, this.#bucket, options.input, { requireObjects: false }));
    await this.temporalCall(() =>
      schedules.createSchedule(this.scheduleDeps(), { scheduleId: options.scheduleId, cron: options.cron, timezone: options.timezone, pipeline, inputPrefix }),
    );
  }

  /** This installation's schedules (those starting jobs on its task queue). */
  async listSchedules(): Promise<schedules.ScheduleInfo[]> {
    return this.temporalCall(() => schedules.listSchedules(this.scheduleDeps()));
  }

  /** Runs a schedule now, whatever its cron says. */
  async triggerSchedule(scheduleId: string): Promise<void> {
    await this.temporalCall(() => schedules.triggerSchedule(this.scheduleDeps(), scheduleId));
  }

  /** Deletes a schedule; the jobs it started are left alone. */
  async deleteSchedule(scheduleId: string): Promise<void> {
    await this.temporalCall(() => schedules.deleteSchedule(this.scheduleDeps(), scheduleId));
  }

  /** One part of a job's stage: every attempt (worker, timings, error, exec's stderr tail), its inputs and outputs; PartNotFoundError when there is none. */
  async part(jobId: string, stageId: string, part: number): Promise<PartDetails> {
    return partDetails({ db: this.#db, s3: this.#aws.s3 }, await this.mustGet(jobId), stageId, part);
  }

  /**
   * Runs one part on this machine with the handler of `registry` and the stage's params: its inputs
   * are downloaded into `outDir/inputs/`, its outputs written to `outDir/outputs/`, never to S3, and
   * nothing is recorded. The attempt number is the part's latest, so the handler sees what the fleet saw.
   */
  async runPartLocally(jobId: string, stageId: string, part: number, options: { registry: TaskRegistry; outDir: string; log: Logger }): Promise<{ details: PartDetails; replay: ReplayResult }> {
    const details = await this.part(jobId, stageId, part);
    const replayed = { ...details, attempt: details.attempts[details.attempts.length - 1]?.attempt ?? 1 };
    return { details, replay: await replayPart({ part: replayed, registry: options.registry, s3: this.#aws.s3, outDir: options.outDir, log: options.log }) };
  }

  /** The job's performance report (parts, retries, makespan, throughput, wait/run percentiles, slowest parts, workers); JobNotFoundError when unknown. */
  async report(jobId: string, options: JobReportOptions = {}): Promise<JobReport> {
    return jobReport(this.#db, jobId, options);
  }

  /** What a fleet cost over [since, until] (default until: now): its workers' time, busy or idle, at its price per worker-hour. */
  async fleetCost(fleet: string, options: { since: Date; until?: Date }): Promise<FleetCost> {
    const until = options.until ?? new Date();
    if (!(until.getTime() > options.since.getTime())) throw new InvalidOptionError(`until (${until.toISOString()}) must be after since (${options.since.toISOString()}).`);
    return fleetCostReport(this.#db, fleet, options.since, until);
  }

  /** Checks that Postgres and Temporal answer now (Temporal within 3 s); the first that does not is a ServiceUnavailableError naming it. */
  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
    await this.#temporal.connection.withDeadline(Date.now() + PING_DEADLINE_MS, () => this.#temporal.workflowService.getSystemInfo({})).catch((err: unknown) => {
      throw new ServiceUnavailableError('Temporal', this.#temporalAddress, { cause: err });
    });
  }

  /**
   * Streams one file of a new job's input to `jobs/<jobId>/input/<path>` (multipart, bounded memory);
   * submit the job afterwards with the returned `input` and the same id. Refused (JobStateError) once
   * the job exists: a job's input never changes.
   */
  async uploadInput(jobId: string, path: string, body: Readable, options: InputUploadOptions = {}): Promise<UploadedInput> {
    return uploadJobInput({ db: this.#db, s3: this.#aws.s3, bucket: this.#bucket, s3Endpoint: this.#s3Endpoint }, jobId, path, body, options);
  }

  /** Every fleet the store knows (or only `options.fleet`): provider, desired/actual workers, bounds, backlog, autoscaler, latest decisions. */
  async gridStatus(options: { fleet?: string; decisions?: number } = {}): Promise<FleetStatus[]> {
    return gridStatus(this.gridDeps(), options);
  }

  /** Sets a fleet's desired workers by hand (clamped to its bounds, recorded as a manual decision); its autoscaler carries on from there. */
  async scaleFleet(fleet: string, desired: number): Promise<ScaleResult> {
    return scaleFleet(this.gridDeps(), fleet, desired);
  }

  /** Starts the autoscaler of a fleet, or hands the running one this definition. */
  async startAutoscaler(fleet: FleetDef): Promise<{ workflowId: string; started: boolean }> {
    return startAutoscaler(this.gridDeps(), fleet);
  }

  /** Stops a fleet's autoscaler (`scaleToZero`: an ASG fleet goes to its minimum too; `wait: false`: return once asked). */
  async stopAutoscaler(fleet: string, options: { scaleToZero?: boolean; wait?: boolean } = {}): Promise<{ stopped: boolean }> {
    return stopAutoscaler(this.gridDeps(), fleet, options);
  }

  private scheduleDeps(): schedules.ScheduleDeps {
    return { temporal: this.#temporal, taskQueue: this.#taskQueue, bucket: this.#bucket };
  }

  private gridDeps(): GridDeps {
    return { db: this.#db, temporal: this.#temporal, taskQueue: this.#taskQueue, autoScaling: this.#aws.autoScaling };
  }

  /** A local input as its files, or an S3 one as the prefix the engine reads (checked to hold objects). */
  private async resolveInput(input: string): Promise<SubmissionInput> {
    if (input.startsWith('s3://')) return { s3Prefix: await reaching('S3', this.#s3Endpoint, () => resolveS3Input(this.#aws.s3, this.#bucket, input, { requireObjects: true })) };
    return { files: await listLocalInput(input) };
  }

  /** Uploads local files under the job's prefix (cleared first of what a submit that did not finish left there); returns the prefix the engine reads. */
  private async placeInput(jobId: string, input: SubmissionInput, options: SubmitOptions): Promise<string> {
    if ('s3Prefix' in input) return input.s3Prefix;
    const inputPrefix = inputPrefixOf(jobId);
    await reaching('S3', this.#s3Endpoint, async () => {
      await deletePrefix(this.#aws.s3, this.#bucket, inputPrefix);
      await uploadFiles(this.#aws.s3, this.#bucket, inputPrefix, [...input.files], { onProgress: options.onProgress });
    });
    return inputPrefix;
  }

  /**
   * A submit naming an existing job: that job, started if its workflow never was. Refused when it
   * is of another pipeline, or (for jobs submitted with a claim) of another definition or input.
   */
  private async resubmitted(existing: Job, def: PipelineDef, input: string): Promise<SubmitResult> {
    if (existing.pipelineName !== def.name) {
      throw new InvalidOptionError(`job id ${existing.jobId} is already taken by a job of pipeline ${existing.pipelineName}`);
    }
    const claim = await getJobClaim(this.#db, existing.jobId);
    if (claim && claim.fingerprint !== submissionFingerprint(def, this.#bucket, await this.resolveInput(input))) {
      throw new JobIdTakenError(existing.jobId, `job ${existing.jobId} exists with a different definition or input`);
    }
    return this.ensureStarted(existing);
  }

  /**
   * After a failed workflow start: when Temporal surely started nothing, removes the job row,
   * its claim and the input this submit uploaded (`uploadedPrefix`), so the id can be used again,
   * and returns true. When unsure (a timeout, a dropped connection), keeps the job: a resubmit
   * with its id finds it and starts its workflow if it is missing.
   */
  private async rolledBack(jobId: string, err: unknown, uploadedPrefix?: string): Promise<boolean> {
    const sure = startSurelyFailed(err) || (await this.workflowMissing(workflowIdOf(jobId)));
    const claim = await getJobClaim(this.#db, jobId);
    if (!sure) {
      if (claim && (await getJob(this.#db, jobId))) await completeJobClaim(this.#db, jobId, claim.token);
      return false;
    }
    await deleteUnstartedJob(this.#db, jobId);
    if (uploadedPrefix !== undefined) await deletePrefix(this.#aws.s3, this.#bucket, uploadedPrefix).catch(() => 0);
    if (claim) await releaseJobClaim(this.#db, jobId, claim.token);
    return true;
  }

  /** True when Temporal answers that the workflow does not exist; false when it exists or Temporal does not answer. */
  private async workflowMissing(workflowId: string): Promise<boolean> {
    return this.#temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => false,
        (err: unknown) => err instanceof WorkflowNotFoundError,
      );
  }

  private async launch(req: LaunchRequest, bucket = this.#bucket): Promise<SubmitResult> {
    const { created } = await this.temporalCall(() => launchJob({ db: this.#db, temporal: this.#temporal, taskQueue: this.#taskQueue, bucket }, req));
    const job = await this.mustGet(req.jobId);
    return { jobId: job.jobId, workflowId: job.workflowId, status: job.status, created };
  }

  /**
   * An existing job, returned as is; if its workflow was never started (a submit that stopped
   * between recording the job and starting it), it is started now.
   */
  private async ensureStarted(job: Job): Promise<SubmitResult> {
    const exists = await this.temporalCall(() => this.handleOf(job).describe()).then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
    if (!exists && !isTerminal(job.status)) {
      const req = { jobId: job.jobId, pipeline: job.definition, inputPrefix: job.inputPrefix, startAt: job.startAt ?? undefined, retryOf: job.parentJobId ?? undefined };
      await this.launch(req, job.bucket).catch(async (err: unknown) => {
        if (await this.rolledBack(job.jobId, err)) throw new JobStartError(job.jobId, { cause: err });
        throw err;
      });
    }
    return { jobId: job.jobId, workflowId: job.workflowId, status: (await this.mustGet(job.jobId)).status, created: false };
  }

  private handleOf(job: Job): WorkflowHandle<typeof batchJob> {
    return this.#temporal.workflow.getHandle<typeof batchJob>(job.workflowId);
  }

  private async mustGet(jobId: string): Promise<Job> {
    const job = await getJob(this.#db, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return this.reconcile(job);
  }

  private async mustBeActive(jobId: string, action: string): Promise<Job> {
    const job = await this.mustGet(jobId);
    if (isTerminal(job.status)) throw new JobStateError(jobId, job.status, `job ${jobId} already ${job.status}: nothing to ${action}`);
    return job;
  }

  /** Sends a signal or cancel; a workflow that ended meanwhile is reported as such. */
  private async signalling(job: Job, fn: (h: WorkflowHandle<typeof batchJob>) => Promise<void>): Promise<void> {
    try {
      await this.temporalCall(() => fn(this.handleOf(job)));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        const now = await this.mustGet(job.jobId);
        throw new JobStateError(job.jobId, now.status, `job ${job.jobId} is no longer running (status ${now.status})`);
      }
      throw err;
    }
  }

  /** Runs a Temporal call; a server that stopped answering becomes a ServiceUnavailableError. */
  private async temporalCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isGrpcUnavailable(err)) throw new ServiceUnavailableError('Temporal', this.#temporalAddress, { cause: err });
      throw err;
    }
  }
}

/** A delayed job whose workflow has not begun: it is still `scheduled` and its start time is ahead. */
function notStartedYet(job: Job): boolean {
  return job.status === 'scheduled' && job.startAt !== null && job.startAt.getTime() > Date.now();
}

/** The summary stored with a finished job, or one made from its row (a job cancelled before it started has none). */
function summaryOf(job: Job): JobSummary | undefined {
  if (job.summary) return job.summary as JobSummary;
  if (!isTerminal(job.status)) return undefined;
  const at = (job.finishedAt ?? new Date()).getTime();
  return {
    jobId: job.jobId,
    pipeline: job.pipelineName,
    status: job.status as JobSummary['status'],
    stages: [],
    startedAt: job.startedAt?.getTime() ?? at,
    finishedAt: at,
    error: job.error ?? undefined,
  };
}

/** gRPC UNAVAILABLE (14), on the error or its cause. */
function isGrpcUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  return e?.code === 14 || e?.cause?.code === 14 || isUnreachable(err);
}

async function closeAll(fns: (() => Promise<void> | void)[]): Promise<void> {
  for (const fn of fns.reverse()) await Promise.resolve(fn()).catch(() => undefined);
}

/** The definition with the submit's priority, checked against the format's limits. */
function withPriority(def: PipelineDef, priority: number | undefined): PipelineDef {
  if (priority === undefined) return def;
  const { min, max } = LIMITS.priority;
  if (!Number.isInteger(priority) || priority < min || priority > max) throw new InvalidOptionError(`priority ${priority} must be a whole number from ${min} to ${max}`);
  return { ...def, priority };
}
