import { EventEmitter } from 'node:events';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients, FLEET_WORKER_SDK_ATTEMPTS, SDK_MAX_ATTEMPTS, type AwsClients } from '../../common/aws';
import { config } from '../../common/config';
import { errorMessage } from '../../common/errors';
import { parseBody, TaskMessage, type PartResult, type PartTask } from '../../common/messages';
import { PartCancelledError, PartWonElsewhereError, SpotInterruptionError, WorkerStoppingError } from '../errors';
import { AsgLifecycle } from './asg-lifecycle';
import { isQueueGone } from '../../common/sqs/errors';
import { partWonKeyOf, stageClosedKeyOf, taskVersionKeyOf } from '../../common/layout';
import { MissingObjectError, objectSize, readJsonLines } from '../../common/s3-io';
import { CompletionSender, type MissingQueueVerdict, type ResultStage, type SendOutcome } from './completions';
import { StartNotifier } from './start-notices';
import { sendDeadLetter } from './dead-letter';
import { MessageDeleter } from './deleter';
import { EventReporter, type WorkerCounters } from './events';
import { compileFleetWorkerOptions, type CompiledFleetWorkerOptions, type FleetWorkerOptions } from './options';
import { Poller } from './poller';
import { ensureCompletionQueueAt, ensureFleetQueues, type FleetQueues } from '../../common/sqs/queues';
import { retryAws } from '../../common/sqs/retry';
import { runPart, type PartOutcome } from './runner';
import { finishesInTime, SPOT_DEADLINE_MARGIN_MS, SpotWatcher, type SpotNotice } from './spot';
import { changeVisibility, VisibilityKeeper } from './visibility';

/** Which part an event is about. */
export interface PartEvent {
  jobId: string;
  stageId: string;
  task: string;
  part: number;
  attempt: number;
}

/** Events a FleetWorker emits (for tests, the CLI and metrics). */
export interface FleetWorkerEvents {
  'part:start': [PartEvent];
  'part:done': [PartEvent & { result: PartResult }];
  'part:failed': [PartEvent & { result: PartResult }];
  /** A part aborted by stop() or because its stage run is over: no result is posted. */
  'part:aborted': [PartEvent & { reason: string }];
  'message:dead-lettered': [{ messageId?: string; reason: string }];
  /** A message of a stage run that is over (cancelled or finished: its queue deleted, the stage marked closed), deleted without running. */
  'message:skipped': [{ messageId?: string; completionQueueUrl: string }];
  'message:handed-back': [{ messageId?: string }];
  /** Results dropped because their stage run is over (its completion queue deleted, the stage marked closed). */
  'completions:dropped': [{ completionQueueUrl: string }];
  /** A completion queue SQS had lost (a restarted or wiped server) was made again; its results are sent. */
  'queue:recreated': [{ queueUrl: string }];
  /** A spot notice (spot watching on): an interruption hands back what cannot finish in time and stops; a rebalance stops gracefully. */
  'spot:notice': [SpotNotice];
  /** Something went wrong that the worker survives (it is also logged). Only emitted when someone listens. */
  error: [Error];
}

/** How often running parts of speculative stages are checked against their won marker, and how long one runs before it is, in ms. */
const WON_CHECK_MS = 1000;
/** A received task message and the state of its parts. */
interface HeldMessage {
  messageId?: string;
  receiptHandle: string;
  queueUrl: string;
  task: TaskMessage;
  receivedAt: number;
  receiveCount: number;
  /** Parts not yet settled: waiting, running, or with a result not yet posted. */
  unsettled: number;
  running: Set<AbortController>;
  /** Return the message to the queue instead of deleting it (a part was aborted or never started). */
  handBack: boolean;
  /** The job was cancelled: delete without results. */
  cancelled: boolean;
  /** A result could not be posted: leave the message to SQS (it reappears after its visibility timeout). */
  sendFailed: boolean;
}

/**
 * A fleet worker: long-polls its fleet's input queue, runs each part with the registered handler
 * (at most `concurrency` at a time), posts batched completions, then deletes the task message.
 * `start()` and `stop()` are idempotent; errors are logged and retried, never thrown out of the loop.
 */
export class FleetWorker extends EventEmitter<FleetWorkerEvents> {
  readonly options: CompiledFleetWorkerOptions;
  private readonly completions: CompletionSender;
  private readonly starts: StartNotifier;
  private readonly deleter: MessageDeleter;
  private readonly held = new Set<HeldMessage>();
  private readonly waiting: { msg: HeldMessage; part: PartTask }[] = [];
  private readonly runningSince = new Map<AbortController, number>();
  /** Running parts of speculative stages (`speculate`), checked against their won marker. */
  private readonly speculative = new Map<AbortController, { msg: HeldMessage; part: PartTask }>();
  private wonTimer?: NodeJS.Timeout;
  private wonCheck?: Promise<void>;
  private readonly goneQueues = new Map<string, number>();
  private readonly background = new Set<Promise<unknown>>();
  private waiters: (() => void)[] = [];
  private fleetQueues?: FleetQueues;
  private poller?: Poller;
  private visibility?: VisibilityKeeper;
  private reporter?: EventReporter;
  private lifecycle?: AsgLifecycle;
  private spot?: { watcher: SpotWatcher; deadline?: NodeJS.Timeout };
  private startPromise?: Promise<void>;
  private stopPromise?: Promise<void>;
  private stopping = false;
  private startedAt = Date.now();
  private counters = { partsDone: 0, partsFailed: 0, bytesIn: 0, bytesOut: 0, busyMs: 0 };

  constructor(options: FleetWorkerOptions) {
    super();
    this.options = compileFleetWorkerOptions(options);
    const { clients, log, workerId, completionBatchMaxDelayMs } = this.options;
    this.completions = new CompletionSender({
      sqs: clients.sqs, log, workerId, maxDelayMs: completionBatchMaxDelayMs,
      onQueueMissing: (queueUrl, stage) => this.resolveMissingQueue(queueUrl, stage),
    });
    this.starts = new StartNotifier({ sqs: clients.sqs, log, workerId, maxDelayMs: completionBatchMaxDelayMs });
    this.deleter = new MessageDeleter(clients.sqs, log);
  }

  /** The fleet's queue URLs (after start). */
  get queues(): FleetQueues | undefined {
    return this.fleetQueues;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  /** Creates the fleet queues if needed, announces the worker and begins polling. Resolves once polling. */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  /**
   * Stops polling, lets running parts finish within `graceMs` (default: shutdownGraceMs), aborts the
   * rest and hands their messages back, posts pending completions and a 'stop' event. Safe to call twice.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopPromise ??= this.doStop(options.graceMs ?? this.options.shutdownGraceMs);
    return this.stopPromise;
  }

  /** The counters reported in worker events. */
  stats(): WorkerCounters {
    const now = Date.now();
    let busyMs = this.counters.busyMs;
    for (const since of this.runningSince.values()) busyMs += now - since;
    return {
      slots: this.options.concurrency,
      busySlots: this.runningSince.size,
      partsDone: this.counters.partsDone,
      partsFailed: this.counters.partsFailed,
      bytesIn: this.counters.bytesIn,
      bytesOut: this.counters.bytesOut,
      uptimeMs: now - this.startedAt,
      busyMs,
    };
  }

  private async doStart(): Promise<void> {
    if (this.stopping) throw new Error('this fleet worker was stopped; create a new one');
    const { clients, log, queuePrefix, fleet } = this.options;
    this.startedAt = Date.now();
    // 7 attempts: about the 10 s an SQS that is still starting had when the SDK retried inside each attempt too.
    const queues = await retryAws('ensureFleetQueues', () => ensureFleetQueues(clients.sqs, queuePrefix, fleet), { log, maxAttempts: 7 });
    this.fleetQueues = queues;
    this.reporter = new EventReporter({
      sqs: clients.sqs, log, eventsQueueUrl: queues.eventsQueueUrl, workerId: this.workerId, instanceId: this.options.instanceId,
      fleet, heartbeatIntervalMs: this.options.heartbeatIntervalMs, stats: () => this.stats(),
    });
    this.visibility = new VisibilityKeeper(clients.sqs, log, this.options.visibilityTimeoutSeconds, () =>
      [...this.held].map((m) => ({ queueUrl: m.queueUrl, receiptHandle: m.receiptHandle })),
    );
    this.poller = new Poller({
      sqs: clients.sqs, log, queueUrl: queues.inputQueueUrl,
      waitTimeSeconds: this.options.waitTimeSeconds,
      visibilityTimeoutSeconds: this.options.visibilityTimeoutSeconds,
      freeSlots: () => this.options.concurrency - this.heldParts(),
      capacityChanged: () => new Promise((resolve) => this.waiters.push(resolve)),
      onMessages: (messages, receivedAt) => messages.forEach((m) => this.accept(m, receivedAt)),
      onLateMessages: (messages) =>
        this.track(changeVisibility(clients.sqs, log, messages.map((m) => ({ queueUrl: queues.inputQueueUrl, receiptHandle: m.ReceiptHandle! })), 0, Date.now() + this.options.flushTimeoutMs)),
      repairQueue: async () => void (await ensureFleetQueues(clients.sqs, queuePrefix, fleet)),
      onError: (err) => this.reportError(err),
    });
    if (this.stopping) return;
    await this.announceTaskVersions();
    await this.reporter.start();
    this.visibility.start();
    this.poller.start();
    this.wonTimer = setInterval(() => {
      this.wonCheck ??= this.abortLosers().finally(() => (this.wonCheck = undefined));
    }, WON_CHECK_MS);
    this.wonTimer.unref();
    if (this.options.asg) {
      const autoScaling = this.options.asg.autoScaling ?? (clients as Partial<AwsClients>).autoScaling ?? createAwsClients(config(), FLEET_WORKER_SDK_ATTEMPTS).autoScaling;
      this.lifecycle = new AsgLifecycle({ ...this.options.asg, autoScaling, instanceId: this.options.instanceId, log }, this);
      this.lifecycle.start();
    }
    if (this.options.spot) {
      this.spot = { watcher: new SpotWatcher({ ...this.options.spot, log, onNotice: (n) => this.onSpotNotice(n) }) };
      this.spot.watcher.start();
    }
    log.info({ workerId: this.workerId, fleet, concurrency: this.options.concurrency, tasks: this.options.registry.names, queueUrl: queues.inputQueueUrl }, 'fleet worker started');
  }

  private async doStop(graceMs: number): Promise<void> {
    this.stopping = true;
    const { log } = this.options;
    await this.startPromise?.catch(() => undefined);
    log.info({ workerId: this.workerId, graceMs, running: this.runningSince.size }, 'fleet worker stopping');
    // The receive in flight may take the poll's whole wait: half the grace period at most (2 s at least).
    await this.poller?.stop(Math.min(this.options.waitTimeSeconds * 1000, Math.max(graceMs / 2, 2000)));
    this.handBackWaiting();
    if (!(await this.until(() => this.runningSince.size === 0, graceMs))) {
      log.warn({ running: this.runningSince.size }, 'grace period over; aborting running parts and handing their messages back');
      for (const msg of this.held) for (const c of msg.running) c.abort(new WorkerStoppingError());
      await this.until(() => this.runningSince.size === 0);
    }
    const giveUpAt = Date.now() + this.options.flushTimeoutMs;
    await this.starts.drain(giveUpAt);
    await this.completions.drain(giveUpAt);
    await this.until(() => this.held.size === 0, this.options.flushTimeoutMs);
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
    await this.deleter.drain(giveUpAt);
    clearTimeout(this.spot?.deadline);
    await this.spot?.watcher.stop();
    clearInterval(this.wonTimer);
    await this.wonCheck;
    await this.visibility?.stop();
    await this.reporter?.stop();
    await this.lifecycle?.close();
    if (this.options.ownClients) destroyAwsClients(this.options.clients as AwsClients);
    log.info({ workerId: this.workerId, ...this.stats() }, 'fleet worker stopped');
  }

  /** Parts not started yet go back with their message. */
  private handBackWaiting(): void {
    for (const { msg } of this.waiting.splice(0)) {
      msg.handBack = true;
      this.settlePart(msg);
    }
  }

  /**
   * A rebalance recommendation: a graceful stop. An interruption: stop taking parts, and hand back
   * at once every part that cannot finish before the instance goes (finishesInTime in spot.ts),
   * aborted with no result posted, so its redelivery carries the same attempt; parts kept are
   * aborted at the deadline if still running. stop() then completes the lifecycle action.
   */
  private onSpotNotice(notice: SpotNotice): void {
    const { log } = this.options;
    this.emit('spot:notice', notice);
    if (notice.kind === 'rebalance') {
      log.warn({ workerId: this.workerId }, 'spot rebalance recommendation: finishing running parts, then stopping');
      void this.stop();
      return;
    }
    const keepUntil = notice.at - SPOT_DEADLINE_MARGIN_MS;
    log.warn({ workerId: this.workerId, action: notice.action, at: new Date(notice.at).toISOString() }, 'spot interruption notice: handing back the parts that cannot finish in time, then stopping');
    this.lifecycle?.expectTermination();
    void this.stop({ graceMs: Math.max(0, keepUntil - Date.now()) }); // stops taking parts at once; its poller's receive in flight is handed back when it returns
    this.handBackWaiting();
    const reason = new SpotInterruptionError(notice.at);
    const abortRunning = (keep: (startedAt: number, timeoutMs: number) => boolean) => {
      for (const msg of this.held) for (const c of msg.running) if (!keep(this.runningSince.get(c)!, msg.task.timeoutMs)) c.abort(reason);
    };
    abortRunning((startedAt, timeoutMs) => finishesInTime(startedAt, timeoutMs, keepUntil));
    // A stop begun earlier (a rebalance, a signal) may allow longer than the deadline.
    this.spot!.deadline = setTimeout(() => abortRunning(() => false), Math.max(0, keepUntil - Date.now()));
    this.spot!.deadline.unref();
  }

  private heldParts(): number {
    return this.waiting.length + this.runningSince.size;
  }

  /** Takes a received message: dead-letters it if malformed, skips it if its job is cancelled, else queues its parts. */
  private accept(m: Message, receivedAt: number): void {
    const queueUrl = this.fleetQueues!.inputQueueUrl;
    const parsed = parseBody(TaskMessage, m.Body);
    if (!parsed.ok) {
      this.track(this.deadLetter(m, parsed.reason));
      return;
    }
    const task = parsed.value;
    this.poller?.notePartCount(task.parts.length);
    if (this.isGone(task.completionQueueUrl)) {
      this.track(this.deleter.delete(queueUrl, m.ReceiptHandle!));
      this.emit('message:skipped', { messageId: m.MessageId, completionQueueUrl: task.completionQueueUrl });
      return;
    }
    const msg: HeldMessage = {
      messageId: m.MessageId, receiptHandle: m.ReceiptHandle!, queueUrl, task, receivedAt,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1), unsettled: task.parts.length,
      running: new Set(), handBack: false, cancelled: false, sendFailed: false,
    };
    this.held.add(msg);
    for (const part of task.parts) this.waiting.push({ msg, part });
    this.pump();
  }

  /** Starts waiting parts while slots are free. */
  private pump(): void {
    while (!this.stopping && this.runningSince.size < this.options.concurrency && this.waiting.length > 0) {
      const { msg, part } = this.waiting.shift()!;
      this.startPart(msg, part);
    }
    this.wake();
  }

  private startPart(msg: HeldMessage, part: PartTask): void {
    const controller = new AbortController();
    const startedAt = Date.now();
    msg.running.add(controller);
    this.runningSince.set(controller, startedAt);
    if (msg.task.speculative) this.speculative.set(controller, { msg, part });
    const ev: PartEvent = { jobId: msg.task.jobId, stageId: msg.task.stageId, task: msg.task.task, part: part.part, attempt: part.attempt };
    this.emit('part:start', ev);
    this.starts.started(msg.task.completionQueueUrl, msg.task.jobId, msg.task.stageId, { part: part.part, attempt: part.attempt, startedAt });
    const { clients, log, registry } = this.options;
    runPart({ message: msg.task, part, receivedAt: msg.receivedAt, receiveCount: msg.receiveCount, registry, s3: clients.s3, log, controller })
      .catch((err: unknown): PartOutcome => ({ kind: 'aborted', reason: err })) // runPart never rejects; belt and braces
      .then((outcome) => {
        msg.running.delete(controller);
        this.runningSince.delete(controller);
        this.speculative.delete(controller);
        this.starts.finished(msg.task.completionQueueUrl, part);
        this.counters.busyMs += Date.now() - startedAt;
        this.finishPart(msg, ev, outcome);
        this.pump();
      })
      .catch((err: unknown) => this.reportError(err));
  }

  private finishPart(msg: HeldMessage, ev: PartEvent, outcome: PartOutcome): void {
    if (outcome.kind === 'aborted') {
      // Cancelled, or won by another attempt: nothing to hand back; anything else runs again elsewhere.
      if (!(outcome.reason instanceof PartCancelledError) && !(outcome.reason instanceof PartWonElsewhereError)) msg.handBack = true;
      this.emit('part:aborted', { ...ev, reason: errorMessage(outcome.reason) });
      this.settlePart(msg);
      return;
    }
    const result = outcome.result;
    this.counters.bytesIn += result.bytesIn;
    this.counters.bytesOut += result.bytesOut;
    if (result.status === 'succeeded') this.counters.partsDone++;
    else this.counters.partsFailed++;
    this.emit(result.status === 'succeeded' ? 'part:done' : 'part:failed', { ...ev, result });
    if (msg.cancelled) {
      this.settlePart(msg);
      return;
    }
    const url = msg.task.completionQueueUrl;
    this.completions.add(url, { jobId: msg.task.jobId, stageId: msg.task.stageId, bucket: msg.task.bucket }, result).then((sent: SendOutcome) => {
      if (sent === 'gone') this.markGone(url);
      if (sent === 'failed') msg.sendFailed = true;
      this.settlePart(msg);
    });
  }

  private settlePart(msg: HeldMessage): void {
    if (--msg.unsettled > 0) return;
    this.held.delete(msg);
    this.track(this.finishMessage(msg));
    this.wake();
  }

  /** The last part of a message settled: delete it, hand it back, or leave it to SQS. */
  private async finishMessage(msg: HeldMessage): Promise<void> {
    const { clients, log } = this.options;
    if (msg.cancelled) {
      await this.deleter.delete(msg.queueUrl, msg.receiptHandle);
    } else if (msg.handBack) {
      // A visibility extension already on its way could land after the hand-back and hide the
      // message for a whole timeout: let it finish first (later rounds no longer see this message).
      await this.visibility?.settled();
      await changeVisibility(clients.sqs, log, [msg], 0, Date.now() + this.options.flushTimeoutMs);
      this.emit('message:handed-back', { messageId: msg.messageId });
    } else if (msg.sendFailed) {
      log.warn({ messageId: msg.messageId, jobId: msg.task.jobId, stageId: msg.task.stageId }, 'results not posted; leaving the task message to be redelivered');
    } else {
      await this.deleter.delete(msg.queueUrl, msg.receiptHandle);
    }
  }

  /**
   * Writes the version of every registered handler where the orchestrator reads it to look up
   * cached parts (`cache: true`), before taking any part: a new handler version is known before
   * a stale cached result could be reused for it. Best effort (logged): without it, cached
   * stages on this fleet run their parts instead of reusing them.
   */
  private async announceTaskVersions(): Promise<void> {
    const { clients, log, queuePrefix, fleet, registry } = this.options;
    const bucket = config().BATCHGRID_BUCKET;
    await Promise.all(
      registry.names.map((task) =>
        clients.s3
          .send(new PutObjectCommand({ Bucket: bucket, Key: taskVersionKeyOf(queuePrefix, fleet, task), Body: JSON.stringify({ version: registry.get(task)!.version }), ContentType: 'application/json' }))
          .catch((err: unknown) => log.warn({ task, err: errorMessage(err) }, 'could not announce the task version; cached stages run their parts instead of reusing them')),
      ),
    );
  }

  /**
   * Parts of speculative stages running for a while: a part whose backup attempt (or first
   * attempt) already won elsewhere, as its won marker says, is aborted; no result is posted and
   * its message is deleted (the part is done).
   */
  private async abortLosers(): Promise<void> {
    const { clients, log } = this.options;
    const now = Date.now();
    await Promise.all(
      [...this.speculative].map(async ([controller, { msg, part }]) => {
        if (now - (this.runningSince.get(controller) ?? now) < WON_CHECK_MS) return;
        const key = partWonKeyOf(msg.task.jobId, msg.task.stageId, part.part);
        let winner: number | undefined;
        try {
          for await (const marker of readJsonLines<{ attempt: number }>(clients.s3, msg.task.bucket, key)) winner = marker.attempt;
        } catch (err) {
          if (!(err instanceof MissingObjectError)) log.debug({ key, err: errorMessage(err) }, 'could not read a won marker; checking again later');
          return;
        }
        if (winner !== undefined && winner !== part.attempt) controller.abort(new PartWonElsewhereError(part.part, part.attempt, winner));
      }),
    );
  }

  /**
   * A completion queue is missing. If its stage run is over (the orchestrator marks it closed in
   * S3 before deleting the queue), its results are worthless: 'closed'. Otherwise SQS lost it (a
   * restarted or wiped server): make it again, 'recreated'. Never read as a cancel by itself.
   */
  private async resolveMissingQueue(queueUrl: string, stage: ResultStage): Promise<MissingQueueVerdict> {
    const { clients, log } = this.options;
    if (await this.stageClosed(stage)) return 'closed';
    await retryAws('ensureCompletionQueue', () => ensureCompletionQueueAt(clients.sqs, queueUrl), { log, maxAttempts: SDK_MAX_ATTEMPTS });
    log.warn({ queueUrl, jobId: stage.jobId, stageId: stage.stageId }, 'completion queue was missing though its stage is not over; re-created it');
    this.emit('queue:recreated', { queueUrl });
    return 'recreated';
  }

  private stageClosed(stage: ResultStage): Promise<boolean> {
    return objectSize(this.options.clients.s3, stage.bucket, stageClosedKeyOf(stage.jobId, stage.stageId)).then(
      () => true,
      (err: unknown) => {
        if (err instanceof MissingObjectError) return false;
        throw err;
      },
    );
  }


  /** The stage run of a completion queue is over: drop everything for it and skip its messages for a while. */
  private markGone(url: string): void {
    const first = !this.isGone(url);
    const now = Date.now();
    for (const [gone, until] of this.goneQueues) if (until <= now) this.goneQueues.delete(gone);
    this.goneQueues.set(url, now + this.options.goneQueueMemoryMs);
    if (!first) return;
    this.options.log.info({ completionQueueUrl: url }, 'stage run is over (its completion queue deleted); dropping its parts');
    this.emit('completions:dropped', { completionQueueUrl: url });
    for (const msg of this.held) {
      if (msg.task.completionQueueUrl !== url || msg.cancelled) continue;
      msg.cancelled = true;
      for (const c of msg.running) c.abort(new PartCancelledError(url));
    }
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const { msg } = this.waiting[i];
      if (!msg.cancelled) continue;
      this.waiting.splice(i, 1);
      this.settlePart(msg);
    }
  }

  private isGone(url: string): boolean {
    const until = this.goneQueues.get(url);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.goneQueues.delete(url);
    return false;
  }

  /** Sends a malformed message to the DLQ with its reason, then deletes it; if the DLQ refuses, SQS redelivers it later. */
  private async deadLetter(m: Message, reason: string): Promise<void> {
    const { clients, log } = this.options;
    const queues = this.fleetQueues!;
    log.warn({ messageId: m.MessageId, reason }, 'malformed task message; moving it to the dead-letter queue');
    try {
      await sendDeadLetter(clients.sqs, log, queues.dlqUrl, { reason, body: m.Body ?? '', queueUrl: queues.inputQueueUrl, workerId: this.workerId, at: Date.now() });
    } catch (err) {
      this.reportError(err);
      return;
    }
    await this.deleter.delete(queues.inputQueueUrl, m.ReceiptHandle!);
    this.emit('message:dead-lettered', { messageId: m.MessageId, reason });
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.reportError(err)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private reportError(err: unknown): void {
    if (isQueueGone(err)) return;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  /** Waits until `cond()` holds (re-checked whenever parts or messages change), or `timeoutMs` passes; true if it holds. */
  private async until(cond: () => boolean, timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        if (Number.isFinite(left)) timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  }
}

/** Creates a fleet worker; call `start()` to begin and `stop()` to drain and end. */
export function createFleetWorker(options: FleetWorkerOptions): FleetWorker {
  return new FleetWorker(options);
}
