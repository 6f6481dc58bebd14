import { countCall, timed } from '../common/call-counts';
import { MAX_MESSAGE_BYTES, type PartResult, type PartTask, type StartedPart } from '../common/messages';
import type { StageDef } from '../pipeline/types';
import type { FailureDecision, OpenPart, QueuedPart, StageCounts, StartNotice, Transition } from '../store/task-runs';
import type { PartCache } from './part-cache';
import type { NewPart, PartSource } from './part-source';
import { backoffMs, dueCount, PartWindow, shouldRetry, slotsFor } from './window';

/**
 * The stage loop: the decisions of a running stage (what to send, retry, fail, count) as plain
 * code over injected I/O, so unit tests drive it with fakes and a clock they control. The
 * Temporal adapter (run-stage.ts) wires it to SQS and Postgres, heartbeats and cancellation.
 */

/** Time, injected: the loop never reads the wall clock or sleeps by itself. */
export interface Clock {
  now(): number;
  /** Waits `ms`, or less when `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** A completion the receiver took off the stage run's completion queue. */
export interface ReceivedResult {
  result: PartResult;
  workerId: string;
}

/** The stored state of a stage run that the loop reads and writes (task_runs, stage_runs). */
export interface StageStore {
  /** Parts sent or waiting for a retry: the window of an earlier attempt, rebuilt after a restart. */
  openParts(): Promise<OpenPart[]>;
  /** Counts derived from stored rows. */
  counts(): Promise<StageCounts>;
  /** The job's status, the activity attempt that owns the stage run, and the job's window if it was tuned. */
  runnerState(): Promise<{ jobStatus: string | undefined; runnerAttempt: number | null; concurrency?: number | null }>;
  /**
   * Under the job's window lock: reads how many of the job's parts are in flight and how many of
   * its other stages wait for slots, lets `choose` pick parts, records this stage's waiting count
   * and the chosen parts as queued (before anything is sent), and returns them.
   */
  reserve(choose: (window: { inFlight: number; othersWaiting: number }) => { parts: QueuedPart[]; waiting: number }): Promise<QueuedPart[]>;
  /** Applies results; returns the transitions that really happened (duplicates return none). */
  applyResults(successes: ReceivedResult[], failures: FailureDecision[]): Promise<Transition[]>;
  /** Records backup attempts of parts in flight as queued (their earlier attempt's success still counts). */
  requeue(parts: QueuedPart[]): Promise<void>;
  /** Records parts started (their deadline with them); returns the ones whose outstanding attempt it was. */
  markStarted(notices: StartNotice[]): Promise<{ part: number; attempt: number }[]>;
}

/** A worker's notice that it started a part. */
export interface ReceivedStart extends StartedPart {
  workerId: string;
}

/** Receives this stage run's completions and start notices; `settle()` deletes them once they are applied. */
export interface CompletionReceiver {
  /** `signal` abandons this receive alone (it then returns nothing); the loop's own signal ends every call. */
  receive(waitSeconds: number, lanes: number, signal?: AbortSignal): Promise<ReceivedBatch>;
}

export interface ReceivedBatch {
  results: ReceivedResult[];
  started: ReceivedStart[];
  settle(): Promise<void>;
}

/** Sends parts to the fleet; returns the parts no task message can carry, with their size. */
export interface TaskSender {
  send(parts: PartTask[]): Promise<{ part: number; attempt: number; bytes: number }[]>;
  /**
   * When the fleet's input queue was made again since the last call (SQS lost it: a wiped or
   * restarted server), the epoch ms it was made: every message sent before it is gone.
   */
  lostBefore(): Promise<number | undefined>;
}

/** What the loop reports with every heartbeat (the Temporal UI shows it under pending activities). */
export interface StageLoopProgress {
  cursor: number;
  inFlight: number;
  /** Of those in flight, the parts a worker has started (the rest wait in the queue). */
  running: number;
  retrying: number;
  succeeded: number;
  failed: number;
  /** Backup attempts launched for stragglers (`speculate`). */
  backups: number;
  paused: boolean;
}

export interface StageLoopOptions {
  jobId: string;
  stage: StageDef;
  /** This activity attempt: a newer owner of the stage run supersedes it. */
  attempt: number;
  /** Max parts of the whole job in flight, shared by its running stages (a tune read from the store replaces it). */
  concurrency: number;
  /**
   * The lost-message slack: how long past its timeout, counted from when a worker started it, a
   * part may go without a completion before its attempt is failed as timed out, in ms.
   */
  overdueSlackMs: number;
  /**
   * How long a part may wait unstarted in the queue before it is taken for lost, in ms: the
   * queue's retention, since SQS drops a message after that. Waiting behind a busy or
   * scaled-to-zero fleet never times a part out before then.
   */
  unstartedDeadlineMs: number;
  /**
   * The stage's fair share of its fleet (activities/fair-share.ts): called about once a second
   * with the stage's load, returns how many parts it may have in flight now. Without it, only the
   * windows cap the stage.
   */
  fleetShare?: (load: StageLoad) => Promise<number>;
  /** Where a part writes its outputs; `attempt` for the attempts of a part that got a backup (each its own place). */
  outputPrefix(part: number, attempt?: number): string;
  /** The part cache of a stage with `cache: true` (activities/part-cache.ts). */
  cache?: PartCache;
  /** Tells the workers that a part with a backup attempt was won by `attempt`, so the other is aborted. */
  markWon?: (won: { part: number; attempt: number }[]) => Promise<void>;
  store: StageStore;
  receiver: CompletionReceiver;
  sender: TaskSender;
  /** Opens the source of new parts at the stored counts (its resume cursor). */
  openSource(counts: StageCounts): Promise<PartSource>;
  clock: Clock;
  /** Aborted when the attempt must stop (the adapter decides what that means). */
  signal: AbortSignal;
  heartbeat(progress: StageLoopProgress): void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
}

/** What a stage tells the fair share of its fleet about itself. */
export interface StageLoad {
  inFlight: number;
  /**
   * Worker slots its parts kept busy over the last seconds (the slot-time of the parts that
   * finished in them, plus the parts running all through them).
   */
  busySlots: number;
  /** Parts ready to send that it has no room for: with `inFlight`, what it would use. */
  ready: number;
  /** Mean run time of the parts that succeeded in this attempt, in ms; undefined before the first. */
  meanRunMs: number | undefined;
}

/** Thrown when a newer attempt owns the stage run: this one stops at once and writes nothing more. */
export class StageSupersededError extends Error {
  constructor(readonly stageId: string, readonly attempt: number, readonly owner: number | null) {
    super(`stage ${stageId}: attempt ${attempt} was superseded by attempt ${owner}`);
    this.name = 'StageSupersededError';
  }
}

const HEARTBEAT_MS = 1000;
const RUNNER_CHECK_MS = 1000;
/** How often the loop asks whether the fleet's input queue was made again (its messages lost). */
const QUEUE_CHECK_MS = 5000;
/** How often the loop asks for its share of the fleet. */
const SHARE_CHECK_MS = 1000;
/** The worker id recorded for a part reused from the part cache. */
export const CACHE_WORKER = 'cache';
/** How often the loop looks for stragglers to back up (`speculate`). */
const SPECULATION_CHECK_MS = 500;
/** A part is never a straggler before it has run this long, in ms. */
const MIN_STRAGGLER_MS = 100;
/** Run times kept for the median of a stage's finished parts. */
const RUN_TIME_SAMPLES = 10_000;
/** Over how long the slots its finished parts kept busy are averaged, in ms. */
const BUSY_WINDOW_MS = 2000;
const IDLE_WAIT_MS = 200;
/** Where the loop's time goes, phase by phase (common/call-counts; printed by the benchmark). */
const PHASES = 'stage-loop';
/** Parts read ahead from the source per turn, at most. */
const READ_AHEAD = 1000;
/** Parts in flight per receive lane: more receives run at once when many parts are out. */
const PARTS_PER_LANE = 200;
const MAX_LANES = 4;

/**
 * Runs a stage until every part has finished; returns the counts from stored rows. Resumes
 * where an earlier attempt stopped: its open parts are rebuilt from the store, and those in
 * flight are sent again under the same attempt (the earlier one may have recorded them without
 * sending them; a duplicate is counted once).
 */
export async function runStageLoop(o: StageLoopOptions): Promise<StageCounts> {
  const { stage, store, clock, signal, log } = o;
  const window = new PartWindow();
  const inputsOf = new Map<number, Pick<NewPart, 'inputs' | 'inputsKey'>>();
  for (const p of await store.openParts()) {
    inputsOf.set(p.part, { inputs: p.inputs, inputsKey: p.inputsKey });
    if (p.status === 'queued') window.sent(p.part, p.attempt, p.deadlineAt ?? clock.now(), { sentAt: p.sentAt, started: p.startedAt !== undefined });
    else window.waitRetry(p.part, p.attempt, p.retryAt ?? clock.now());
  }
  const counts = await store.counts();
  const source = await o.openSource(counts);
  let paused = false;
  let concurrency = o.concurrency;
  let lastRunnerCheck = Number.NEGATIVE_INFINITY;
  let lastQueueCheck = clock.now();
  let lastHeartbeat = Number.NEGATIVE_INFINITY;
  let lastShareCheck = Number.NEGATIVE_INFINITY;
  let shareCap = Number.POSITIVE_INFINITY;
  const runTime = { totalMs: 0, parts: 0 };
  /** Run times of the parts that finished lately, as [received at, run ms] on the loop's clock. */
  let recent: [number, number][] = [];
  /** Run times of succeeded parts (a bounded sample), for the median a straggler is measured against. */
  const runTimes: number[] = [];
  /** Parts that got a backup attempt: their attempts write apart, and the winner is announced. */
  const backedUp = new Set<number>();
  let backups = 0;
  let lastSpeculation = Number.NEGATIVE_INFINITY;
  let lastTick = clock.now();

  const toTask = (p: { part: number; attempt: number }): PartTask => ({
    part: p.part,
    attempt: p.attempt,
    inputs: inputsOf.get(p.part)?.inputs ?? [],
    inputsKey: inputsOf.get(p.part)?.inputsKey,
    outputPrefix: backedUp.has(p.part) ? o.outputPrefix(p.part, p.attempt) : o.outputPrefix(p.part),
  });

  const failure = (part: number, attempt: number, error: NonNullable<PartResult['error']>): PartResult => {
    const now = clock.now();
    return { part, attempt, status: 'failed', outputs: [], error, sentAt: now, receivedAt: now, startedAt: now, finishedAt: now, bytesIn: 0, bytesOut: 0 };
  };

  /** Turns failures into retries or final failures, by the stage's policy. */
  const decide = (r: ReceivedResult): FailureDecision => {
    const retryable = r.result.error?.retryable ?? true;
    return { ...r, retryAt: shouldRetry(stage.retry, r.result.attempt, retryable) ? clock.now() + backoffMs(stage.retry, r.result.attempt) : undefined };
  };

  const apply = async (successes: ReceivedResult[], failures: FailureDecision[]) => {
    const transitions = await store.applyResults(successes, failures);
    const now = clock.now();
    if (o.cache) {
      // Parts that ran (not reused) and counted: recorded in the cache with the inputs they were sent.
      const counted = new Set(transitions.filter((t) => t.status === 'succeeded').map((t) => `${t.part}:${t.attempt}`));
      const ran = successes.filter((r) => r.workerId !== CACHE_WORKER && counted.has(`${r.result.part}:${r.result.attempt}`));
      await o.cache.record(ran.map((r) => ({ result: r.result, inputs: inputsOf.get(r.result.part)?.inputs ?? [], inputsKey: inputsOf.get(r.result.part)?.inputsKey })));
    }
    for (const r of [...successes, ...failures]) {
      if (r.result.cachedRunMs !== undefined) continue;
      const ms = Math.max(0, r.result.finishedAt - r.result.startedAt);
      // Only the fleet share reads these (and prunes them to its window).
      if (o.fleetShare) recent.push([now, ms]);
      if (r.result.status !== 'succeeded') continue;
      runTime.totalMs += ms;
      runTime.parts += 1;
      if (runTimes.length < RUN_TIME_SAMPLES) runTimes.push(ms);
      else runTimes[runTime.parts % RUN_TIME_SAMPLES] = ms;
    }
    const won = transitions.filter((t) => t.status === 'succeeded' && backedUp.has(t.part));
    // Before the part is closed below: a straggler's backup is announced, so its loser is aborted.
    if (won.length > 0) await o.markWon?.(won.map((t) => ({ part: t.part, attempt: t.attempt })));
    const retryAtOf = new Map(failures.map((f) => [`${f.result.part}:${f.result.attempt}`, f.retryAt]));
    for (const t of transitions) {
      // Live counts for heartbeats only; the stage's result is counted from stored rows.
      if (t.status === 'succeeded') counts.succeeded += 1;
      if (t.status === 'failed') counts.failed += 1;
      if (t.status === 'retry_wait') window.waitRetry(t.part, t.attempt, retryAtOf.get(`${t.part}:${t.attempt}`) ?? clock.now());
      else {
        window.close(t.part);
        inputsOf.delete(t.part);
      }
    }
  };

  const send = async (parts: { part: number; attempt: number }[]) => {
    if (parts.length === 0) return;
    const tooLarge = await timed(PHASES, 'send', () => o.sender.send(parts.map(toTask)));
    if (tooLarge.length === 0) return;
    // Retrying cannot make a part fit: it fails at once, for good, saying why.
    const paramsBytes = Buffer.byteLength(JSON.stringify(stage.params ?? null));
    log.error({ parts: tooLarge.length, paramsBytes }, 'parts too large for a task message; failing them');
    await apply(
      [],
      tooLarge.map((p) => ({
        workerId: 'orchestrator',
        result: failure(p.part, p.attempt, {
          type: 'MessageTooLarge',
          message: `the task message of part ${p.part} is ${p.bytes} bytes, over the limit of ${MAX_MESSAGE_BYTES} bytes (stages.${stage.id}.params is ${paramsBytes} bytes)`,
          retryable: false,
        }),
      })),
    );
  };

  const stageCap = stage.concurrency ?? Number.POSITIVE_INFINITY;
  /** Room in the job's window and the stage's own cap (the fleet's share aside). */
  const windowRoom = () => Math.min(concurrency, stageCap) - window.inFlightCount;

  /** Asks for the stage's share of the fleet, telling it what the stage has in flight and ready. */
  const refreshShare = async () => {
    if (!o.fleetShare || clock.now() - lastShareCheck < SHARE_CHECK_MS) return;
    lastShareCheck = clock.now();
    if (!paused && windowRoom() > 0) await source.fill(Math.min(windowRoom(), READ_AHEAD));
    const now = clock.now();
    const ready = paused ? 0 : Math.min(Math.max(0, windowRoom()), dueCount(window, now) + source.buffered);
    // Slots busy over the last BUSY_WINDOW_MS: the slot-time of the parts that finished in it, plus
    // the parts running all through it. Timed on this clock (worker clocks may differ); a part
    // seen running for less is left out, since its completion may already be on its way.
    const since = now - BUSY_WINDOW_MS;
    recent = recent.filter(([at]) => at > since);
    const busyMs = recent.reduce((sum, [at, ms]) => sum + Math.min(ms, at - since), 0);
    const busySlots = busyMs / BUSY_WINDOW_MS + window.runningSince(since);
    shareCap = await o.fleetShare({ inFlight: window.inFlightCount, busySlots, ready, meanRunMs: runTime.parts > 0 ? runTime.totalMs / runTime.parts : undefined });
  };

  /** Reserves window slots under the job's lock, records the chosen parts as queued, then sends them. */
  const fill = async () => {
    if (windowRoom() <= 0) return;
    // The source reads ahead to the window's room, so `ready` tells the fleet's share what the stage could use.
    await timed(PHASES, 'source', () => source.fill(Math.min(windowRoom(), READ_AHEAD)));
    const cap = Math.min(stageCap, shareCap);
    if (cap - window.inFlightCount <= 0) return;
    const now = clock.now();
    const deadlineAt = now + o.unstartedDeadlineMs;
    const chosen = await timed(PHASES, 'reserve', () => store.reserve((state) => {
      const slots = Math.min(slotsFor(concurrency, state.inFlight, window.inFlightCount, state.othersWaiting), cap - window.inFlightCount);
      const ready = dueCount(window, now) + source.buffered;
      const retries = window.dueRetries(now, slots);
      const fresh = source.take(slots - retries.length);
      for (const p of fresh) inputsOf.set(p.part, { inputs: p.inputs, inputsKey: p.inputsKey });
      const picked = [...retries, ...fresh.map((p) => ({ part: p.part, attempt: 1 }))];
      const parts = picked.map((c) => ({ ...c, sentAt: now, deadlineAt, inputs: inputsOf.get(c.part)!.inputs, inputsKey: inputsOf.get(c.part)!.inputsKey }));
      return { parts, waiting: ready - picked.length };
    }));
    for (const c of chosen) window.sent(c.part, c.attempt, deadlineAt, { sentAt: now });
    await send(await reuseCached(chosen, now));
  };

  /** With the part cache: applies the hits among the chosen first attempts as successes; returns the parts still to send. */
  const reuseCached = async <T extends { part: number; attempt: number }>(chosen: T[], now: number): Promise<T[]> => {
    const fresh = chosen.filter((c) => c.attempt === 1);
    if (!o.cache || fresh.length === 0) return chosen;
    const hits = await o.cache.lookup(fresh.map((c) => ({ part: c.part, attempt: c.attempt, inputs: inputsOf.get(c.part)?.inputs ?? [], inputsKey: inputsOf.get(c.part)?.inputsKey })), now);
    if (hits.length === 0) return chosen;
    await apply(hits.map((result) => ({ result, workerId: CACHE_WORKER })), []);
    const hit = new Set(hits.map((h) => h.part));
    return chosen.filter((c) => !hit.has(c.part));
  };

  /**
   * Backup attempts for stragglers (`speculate` on the stage), as MapReduce's backup tasks: once
   * enough of the stage has finished, a part running far longer than the median of its finished
   * peers is sent again as its next attempt, to whichever worker takes it. The first success wins
   * (task_runs accepts a success from any attempt while the part is open); the other attempt's
   * completion changes nothing and its worker aborts it on the won marker.
   */
  const speculate = async () => {
    const spec = stage.speculate;
    if (!spec || clock.now() - lastSpeculation < SPECULATION_CHECK_MS) return;
    lastSpeculation = clock.now();
    if (!source.exhausted || runTimes.length === 0) return;
    if ((counts.succeeded + counts.failed) * 100 < spec.afterPercent * source.produced) return;
    const sorted = [...runTimes].sort((a, b) => a - b);
    const medianMs = sorted[Math.floor(sorted.length / 2)]!;
    const thresholdMs = Math.max(MIN_STRAGGLER_MS, spec.slowerThan * medianMs);
    const now = clock.now();
    const stragglers = window.startedBefore(now - thresholdMs).filter((p) => !backedUp.has(p.part) && p.attempt < stage.retry.attempts);
    if (stragglers.length === 0) return;
    const deadlineAt = now + o.unstartedDeadlineMs;
    const parts = stragglers.map((p) => ({ part: p.part, attempt: p.attempt + 1, sentAt: now, deadlineAt, inputs: inputsOf.get(p.part)?.inputs ?? [], inputsKey: inputsOf.get(p.part)?.inputsKey }));
    await store.requeue(parts);
    for (const p of parts) {
      backedUp.add(p.part);
      window.sent(p.part, p.attempt, deadlineAt, { sentAt: now });
    }
    backups += parts.length;
    log.info({ parts: parts.map((p) => p.part), medianMs, thresholdMs }, 'backup attempts for stragglers');
    await send(parts);
  };

  /** Start notices: the part leaves the queue, and its deadline now counts from its start. */
  const applyStarts = async (started: ReceivedStart[]) => {
    if (started.length === 0) return;
    const deadline = (s: ReceivedStart) => s.startedAt + stage.timeoutMs + o.overdueSlackMs;
    const notices = started.map((s) => ({ part: s.part, attempt: s.attempt, startedAt: s.startedAt, workerId: s.workerId, deadlineAt: deadline(s) }));
    const updated = await store.markStarted(notices);
    const byPart = new Map(notices.map((n) => [`${n.part}:${n.attempt}`, n.deadlineAt]));
    const seenAt = clock.now();
    for (const u of updated) window.started(u.part, u.attempt, byPart.get(`${u.part}:${u.attempt}`)!, seenAt);
  };

  /** Messages sent to an input queue SQS has since made again are gone: send those parts again, same attempt (no retry spent). */
  const resendLost = async () => {
    if (clock.now() - lastQueueCheck < QUEUE_CHECK_MS) return;
    lastQueueCheck = clock.now();
    const madeAt = await o.sender.lostBefore();
    if (madeAt === undefined) return;
    const lost = window.unstartedSentBefore(madeAt);
    if (lost.length === 0) return;
    log.warn({ parts: lost.length }, 'the fleet input queue was made again; sending its lost parts again under the same attempt');
    const now = clock.now();
    for (const p of lost) window.sent(p.part, p.attempt, now + o.unstartedDeadlineMs, { sentAt: now });
    await send(lost);
  };

  /**
   * The loop is pipelined: the next receive is on its way while a batch is applied, settled and
   * new parts are sent, and a batch's deletion runs while the loop goes on. Batches are still
   * applied one at a time, in the order received; a received message stays invisible until it is
   * deleted, so the receive ahead never gets the batch being applied.
   */
  let ahead: { batch: Promise<ReceivedBatch>; abort: AbortController; waitSeconds: number } | undefined;
  let settling: Promise<void> | undefined;
  /** Marks a promise handled (its error comes out where it is awaited, not as an unhandled rejection). */
  const handled = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const receiveAhead = () => {
    const lanes = Math.min(MAX_LANES, Math.max(1, Math.ceil(window.inFlightCount / PARTS_PER_LANE)));
    const abort = new AbortController();
    const waitSeconds = window.inFlightCount > 0 ? 1 : 0;
    ahead = { batch: handled(o.receiver.receive(waitSeconds, lanes, abort.signal)), abort, waitSeconds };
  };
  /** Abandons the receive ahead: only when nothing is in flight, so that all it could bring are duplicates. */
  const abandonAhead = () => {
    ahead?.abort.abort();
    ahead = undefined;
  };
  /** Ends the pipeline: the receive ahead is abandoned (every part is final: what it held are duplicates) and the last deletion awaited. */
  const drain = async () => {
    abandonAhead();
    await settling;
  };

  const receiveCompletions = async () => {
    if (!ahead) receiveAhead();
    // Time spent here is time the loop waited for completions.
    const batch = await timed(PHASES, 'receive', () => ahead!.batch);
    receiveAhead();
    if (batch.results.length === 0 && batch.started.length === 0) return;
    await timed(PHASES, 'starts', () => applyStarts(batch.started));
    const successes = batch.results.filter((r) => r.result.status === 'succeeded');
    const failures = batch.results.filter((r) => r.result.status !== 'succeeded').map(decide);
    await timed(PHASES, 'apply', () => apply(successes, failures));
    // Deleted only after the results are committed: a crash before this replays them, harmlessly.
    // One deletion at a time: an error in the last one ends the attempt here.
    await timed(PHASES, 'settle', async () => settling);
    settling = handled(batch.settle());
  };

  /** Parts whose completion never came (a lost message, a dead worker past every redelivery): fail the attempt as timed out. */
  const expireOverdue = async () => {
    const overdue = window.overdue(clock.now());
    if (overdue.length === 0) return;
    log.warn({ parts: overdue.length }, 'parts overdue; failing their attempts as timed out');
    const message = (p: { started: boolean }) =>
      p.started ? `no completion within ${stage.timeoutMs + o.overdueSlackMs} ms of its start (timeout plus the lost-message slack)` : `not started within ${o.unstartedDeadlineMs} ms of sending (the queue's retention): its message was lost`;
    await apply([], overdue.map((p) => decide({ workerId: 'orchestrator', result: failure(p.part, p.attempt, { type: 'TimeoutError', message: message(p), retryable: true }) })));
  };

  const heartbeat = (force = false) => {
    if (!force && clock.now() - lastHeartbeat < HEARTBEAT_MS) return;
    lastHeartbeat = clock.now();
    o.heartbeat({ cursor: source.produced, inFlight: window.inFlightCount, running: window.runningCount, retrying: window.waitingCount, succeeded: counts.succeeded, failed: counts.failed, backups, paused });
  };

  if (o.attempt > 1) {
    const open = window.inFlightParts();
    log.info({ resumedAt: counts.total, open: open.length }, 'stage resumed; resending the parts in flight when the last attempt stopped');
    await send(open);
  }
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (clock.now() - lastRunnerCheck >= RUNNER_CHECK_MS) {
        lastRunnerCheck = clock.now();
        const state = await timed(PHASES, 'runnerState', () => store.runnerState());
        if (state.runnerAttempt !== null && state.runnerAttempt > o.attempt) throw new StageSupersededError(stage.id, o.attempt, state.runnerAttempt);
        paused = state.jobStatus === 'paused';
        if (state.concurrency != null && state.concurrency !== concurrency) {
          log.info({ from: concurrency, to: state.concurrency }, "the job's concurrency was tuned");
          concurrency = state.concurrency;
        }
      }
      countCall(PHASES, 'iterations');
      // Part-ms in flight (its sum over the run divided by the run's ms is the mean number in flight).
      const tick = clock.now();
      countCall(PHASES, 'inFlightPartMs', window.inFlightCount * (tick - lastTick));
      lastTick = tick;
      await receiveCompletions();
      await resendLost();
      await expireOverdue();
      await timed(PHASES, 'share', refreshShare);
      if (!paused) await timed(PHASES, 'fill', fill);
      if (!paused) await speculate();
      heartbeat();
      if (source.exhausted && window.empty) {
        await drain();
        break;
      }
      if (window.inFlightCount === 0) {
        // A long poll ahead, sent while parts were out, would hold up the next turn for nothing.
        if (ahead && ahead.waitSeconds > 0) abandonAhead();
        // Nothing to wait on in SQS: sleep until the next retry is due or new stream parts may have arrived.
        const until = Math.min(window.nextRetryAt() ?? Infinity, clock.now() + IDLE_WAIT_MS);
        await clock.sleep(Math.max(10, until - clock.now()), signal);
      }
    }
  } finally {
    // On an error or a stop, the receive ahead is abandoned too (what it held comes back after its visibility timeout).
    ahead?.abort.abort();
  }
  const final = await store.counts();
  Object.assign(counts, final);
  heartbeat(true);
  return final;
}
