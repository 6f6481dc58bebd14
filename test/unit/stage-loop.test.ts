import type { PartResult, PartTask } from '../../common/messages';
import type { PartSource, NewPart } from '../../activities/part-source';
import { runStageLoop, StageSupersededError, type Clock, type StageLoad, type StageLoopOptions, type CompletionReceiver, type ReceivedResult, type ReceivedStart, type StageStore, type TaskSender } from '../../activities/stage-loop';
import type { StageDef } from '../../pipeline/types';
import type { FailureDecision, OpenPart, QueuedPart, StageCounts, StartNotice, Transition } from '../../store/task-runs';

/**
 * The stage loop's decisions, driven with fakes: an in-memory store that behaves like task_runs
 * (first success wins, a failure only for the outstanding attempt), a fleet that answers sent
 * parts as a test tells it, and a clock that moves only when the loop sleeps or a test says so.
 */

const stage = (over: Partial<StageDef> = {}): StageDef =>
  ({ id: 's', task: 't', params: {}, needs: [], chain: 'barrier', gather: false, timeoutMs: 1000, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 1000 }, tolerate: { failedParts: 0 }, ...over }) as unknown as StageDef;

class FakeClock implements Clock {
  t = 1_000_000;
  now = () => this.t;
  async sleep(ms: number) {
    this.t += ms;
  }
}

interface Row { part: number; attempt: number; status: 'queued' | 'retry_wait' | 'succeeded' | 'failed'; deadlineAt?: number; retryAt?: number; startedAt?: number }

class FakeStore implements StageStore {
  rows = new Map<number, Row>();
  /** Parts of the job in flight in other stages (the shared window). */
  othersInFlight = 0;
  othersWaiting = 0;
  jobStatus = 'running';
  runnerAttempt: number | null = 1;
  waiting: number[] = [];

  async openParts(): Promise<OpenPart[]> {
    return [...this.rows.values()].filter((r) => r.status === 'queued' || r.status === 'retry_wait').map((r) => ({ part: r.part, attempt: r.attempt, status: r.status as 'queued', inputs: [], deadlineAt: r.deadlineAt, retryAt: r.retryAt }));
  }
  async counts(): Promise<StageCounts> {
    const rows = [...this.rows.values()];
    const n = (s: Row['status']) => rows.filter((r) => r.status === s).length;
    return { total: rows.length, inFlight: n('queued'), retryWaiting: n('retry_wait'), succeeded: n('succeeded'), failed: n('failed'), retried: rows.filter((r) => r.attempt > 1).length, maxPart: Math.max(-1, ...rows.map((r) => r.part)) };
  }
  async runnerState() {
    return { jobStatus: this.jobStatus, runnerAttempt: this.runnerAttempt };
  }
  async reserve(choose: (w: { inFlight: number; othersWaiting: number }) => { parts: QueuedPart[]; waiting: number }) {
    const inFlight = this.othersInFlight + [...this.rows.values()].filter((r) => r.status === 'queued').length;
    const { parts, waiting } = choose({ inFlight, othersWaiting: this.othersWaiting });
    this.waiting.push(waiting);
    for (const p of parts) {
      const row = this.rows.get(p.part);
      if (row && (row.status === 'succeeded' || row.status === 'failed')) continue;
      this.rows.set(p.part, { part: p.part, attempt: p.attempt, status: 'queued', deadlineAt: p.deadlineAt });
    }
    return parts;
  }
  async requeue(parts: QueuedPart[]) {
    for (const p of parts) {
      const row = this.rows.get(p.part);
      if (row && row.status === 'queued' && row.attempt <= p.attempt) Object.assign(row, { attempt: p.attempt, deadlineAt: p.deadlineAt, startedAt: undefined });
    }
  }
  async markStarted(notices: StartNotice[]) {
    const out: { part: number; attempt: number }[] = [];
    for (const n of notices) {
      const row = this.rows.get(n.part);
      if (!row || row.status !== 'queued' || row.attempt !== n.attempt) continue;
      Object.assign(row, { startedAt: n.startedAt, deadlineAt: n.deadlineAt });
      out.push({ part: n.part, attempt: n.attempt });
    }
    return out;
  }
  async applyResults(successes: ReceivedResult[], failures: FailureDecision[]): Promise<Transition[]> {
    const out: Transition[] = [];
    for (const s of successes) {
      const row = this.rows.get(s.result.part);
      if (!row || (row.status !== 'queued' && row.status !== 'retry_wait')) continue;
      Object.assign(row, { status: 'succeeded', attempt: s.result.attempt });
      out.push({ part: row.part, attempt: row.attempt, status: 'succeeded' });
    }
    for (const f of failures) {
      const row = this.rows.get(f.result.part);
      if (!row || row.status !== 'queued' || row.attempt !== f.result.attempt) continue;
      Object.assign(row, { status: f.retryAt === undefined ? 'failed' : 'retry_wait', retryAt: f.retryAt });
      out.push({ part: row.part, attempt: row.attempt, status: row.status });
    }
    return out;
  }
}

/**
 * The fleet: records every part sent and answers each per `answer` (lost: the message vanishes).
 * A part starts `startDelayMs` after it is sent (queue wait) and finishes `runMs` later, on the
 * fake clock; the receiver hands out start notices and results once their time has come.
 */
class FakeFleet implements TaskSender, CompletionReceiver {
  sent: { part: number; attempt: number; at: number }[] = [];
  prefixes: { part: number; attempt: number; prefix: string }[] = [];
  remadeAt?: number;
  private pendingResults: { at: number; r: ReceivedResult }[] = [];
  private pendingStarts: { at: number; s: ReceivedStart }[] = [];
  constructor(
    private readonly clock: FakeClock,
    private readonly answer: (p: PartTask, nth: number) => 'ok' | 'fail' | 'permanent' | 'lost' = () => 'ok',
    private readonly tooLarge = new Set<number>(),
    private readonly timing: { startDelayMs?: (p: PartTask) => number; runMs?: number; runMsOf?: (p: PartTask) => number } = {},
  ) {}
  async send(parts: PartTask[]) {
    const big = parts.filter((p) => this.tooLarge.has(p.part)).map((p) => ({ part: p.part, attempt: p.attempt, bytes: 300_000 }));
    for (const p of parts.filter((x) => !this.tooLarge.has(x.part))) {
      this.sent.push({ part: p.part, attempt: p.attempt, at: this.clock.now() });
      const nth = this.sent.filter((s) => s.part === p.part).length;
      const a = this.answer(p, nth);
      if (a === 'lost') continue;
      const startAt = this.clock.now() + (this.timing.startDelayMs?.(p) ?? 0);
      const endAt = startAt + (this.timing.runMsOf?.(p) ?? this.timing.runMs ?? 0);
      this.prefixes.push({ part: p.part, attempt: p.attempt, prefix: p.outputPrefix });
      this.pendingStarts.push({ at: startAt, s: { part: p.part, attempt: p.attempt, startedAt: startAt, workerId: 'w1' } });
      const result: PartResult = {
        part: p.part, attempt: p.attempt, status: a === 'ok' ? 'succeeded' : 'failed', outputs: [],
        error: a === 'ok' ? undefined : { type: 'Boom', message: 'boom', retryable: a === 'fail' },
        sentAt: this.clock.now(), receivedAt: startAt, startedAt: startAt, finishedAt: endAt, bytesIn: 0, bytesOut: 0,
      };
      this.pendingResults.push({ at: endAt, r: { result, workerId: 'w1' } });
    }
    return big;
  }
  async lostBefore() {
    const t = this.remadeAt;
    this.remadeAt = undefined;
    return t;
  }
  /** Loses every message not yet started (SQS lost the queue) and says the queue was made again now. */
  loseQueue() {
    const now = this.clock.now();
    const unstarted = new Set(this.pendingStarts.filter((p) => p.at > now).map((p) => `${p.s.part}:${p.s.attempt}`));
    this.pendingStarts = this.pendingStarts.filter((p) => !unstarted.has(`${p.s.part}:${p.s.attempt}`));
    this.pendingResults = this.pendingResults.filter((p) => !unstarted.has(`${p.r.result.part}:${p.r.result.attempt}`));
    this.remadeAt = now;
  }
  /** A long poll: with nothing due it waits `waitSeconds` on the clock. */
  async receive(waitSeconds: number) {
    const now = this.clock.now();
    const started = this.pendingStarts.filter((p) => p.at <= now).map((p) => p.s);
    const results = this.pendingResults.filter((p) => p.at <= now).map((p) => p.r);
    this.pendingStarts = this.pendingStarts.filter((p) => p.at > now);
    this.pendingResults = this.pendingResults.filter((p) => p.at > now);
    if (results.length === 0 && started.length === 0) this.clock.t += waitSeconds * 1000;
    return { results, started, settle: async () => undefined };
  }
}

class ListSource implements PartSource {
  private next = 0;
  private taken = 0;
  constructor(private readonly total: number, start = 0) {
    this.next = start;
    this.taken = start;
  }
  get exhausted() { return this.next >= this.total; }
  get produced() { return this.taken; }
  get buffered() { return this.total - this.next; }
  async fill() {}
  take(n: number): NewPart[] {
    const out: NewPart[] = [];
    while (out.length < n && this.next < this.total) out.push({ part: this.next++, inputs: [] });
    this.taken += out.length;
    return out;
  }
}

const quiet = { info() {}, warn() {}, error() {} };

function run(o: { store?: FakeStore; fleet: FakeFleet; clock: FakeClock; parts: number; concurrency?: number; attempt?: number; stage?: StageDef; signal?: AbortSignal; onTurn?: () => void; overdueSlackMs?: number; unstartedDeadlineMs?: number; fleetShare?: StageLoopOptions['fleetShare']; markWon?: StageLoopOptions['markWon']; receiver?: CompletionReceiver }) {
  const store = o.store ?? new FakeStore();
  const heartbeats: unknown[] = [];
  const result = runStageLoop({
    jobId: 'j', stage: o.stage ?? stage(), attempt: o.attempt ?? 1, concurrency: o.concurrency ?? 4, overdueSlackMs: o.overdueSlackMs ?? 500, unstartedDeadlineMs: o.unstartedDeadlineMs ?? 3_600_000,
    outputPrefix: (p, attempt) => (attempt === undefined ? `out/${p}/` : `out/${p}/attempt-${attempt}/`), markWon: o.markWon, store, receiver: o.receiver ?? { receive: async (w: number) => (o.onTurn?.(), o.fleet.receive(w)) }, sender: o.fleet,
    openSource: async (c) => new ListSource(o.parts, c.total), clock: o.clock, signal: o.signal ?? new AbortController().signal,
    heartbeat: (p) => heartbeats.push(p), log: quiet, fleetShare: o.fleetShare,
  });
  return { store, result, heartbeats };
}

describe('the stage loop', () => {
  test('window fill: never more than `concurrency` parts in flight, every part sent once and counted once', async () => {
    const clock = new FakeClock();
    let maxInFlight = 0;
    const store = new FakeStore();
    const fleet = new FakeFleet(clock);
    const { result } = run({ store, fleet, clock, parts: 10, concurrency: 3, onTurn: () => (maxInFlight = Math.max(maxInFlight, [...store.rows.values()].filter((r) => r.status === 'queued').length)) });
    const counts = await result;
    expect(counts).toMatchObject({ total: 10, succeeded: 10, failed: 0, retried: 0 });
    expect(maxInFlight).toBe(3);
    expect(fleet.sent.map((s) => s.part)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('a stage cap of its own: no more of its parts in flight than `concurrency` on the stage, within the job window', async () => {
    const clock = new FakeClock();
    let maxInFlight = 0;
    const store = new FakeStore();
    const fleet = new FakeFleet(clock);
    const { result } = run({ store, fleet, clock, parts: 9, concurrency: 8, stage: stage({ concurrency: 2 }), onTurn: () => (maxInFlight = Math.max(maxInFlight, [...store.rows.values()].filter((r) => r.status === 'queued').length)) });
    expect(await result).toMatchObject({ total: 9, succeeded: 9 });
    expect(maxInFlight).toBe(2);
  });

  test("the fleet's share caps parts in flight below the window; the stage tells it what it has in flight, ready and how long parts run", async () => {
    const clock = new FakeClock();
    let maxInFlight = 0;
    const store = new FakeStore();
    const fleet = new FakeFleet(clock, undefined, undefined, { runMs: 250 });
    const loads: StageLoad[] = [];
    // The share is 3 for the first 2 s, then 6.
    const started = clock.now();
    const fleetShare = async (load: StageLoad) => (loads.push(load), clock.now() - started < 2000 ? 3 : 6);
    const { result } = run({ store, fleet, clock, parts: 60, concurrency: 20, fleetShare, onTurn: () => (maxInFlight = Math.max(maxInFlight, [...store.rows.values()].filter((r) => r.status === 'queued').length)) });
    expect(await result).toMatchObject({ total: 60, succeeded: 60, failed: 0, retried: 0 });
    expect(maxInFlight).toBe(6);
    expect(loads[0]).toEqual({ inFlight: 0, busySlots: 0, ready: 20, meanRunMs: undefined });
    // Once parts finished, their mean run time is published; `ready` is what the window would still take.
    expect(loads.find((l) => l.meanRunMs !== undefined)?.meanRunMs).toBe(250);
    expect(loads.every((l) => l.inFlight + l.ready <= 20)).toBe(true);
  });

  test('speculate: a straggler near the end gets a backup attempt; the first success wins, counted once, announced, its outputs apart', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    // Part 7's first attempt takes 60 s; every other attempt 100 ms.
    const fleet = new FakeFleet(clock, undefined, undefined, { runMsOf: (p) => (p.part === 7 && p.attempt === 1 ? 60_000 : 100) });
    const won: { part: number; attempt: number }[] = [];
    const { result, heartbeats } = run({
      store, fleet, clock, parts: 20, concurrency: 20, overdueSlackMs: 120_000,
      stage: stage({ timeoutMs: 120_000, speculate: { afterPercent: 75, slowerThan: 3 } }),
      markWon: async (w) => void won.push(...w),
    });
    expect(await result).toMatchObject({ total: 20, succeeded: 20, failed: 0 });
    expect(fleet.sent.filter((s) => s.part === 7).map((s) => s.attempt)).toEqual([1, 2]);
    expect(fleet.sent).toHaveLength(21);
    expect(store.rows.get(7)).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(won).toEqual([{ part: 7, attempt: 2 }]);
    expect(fleet.prefixes.filter((p) => p.part === 7).map((p) => p.prefix)).toEqual(['out/7/', 'out/7/attempt-2/']);
    expect((heartbeats.at(-1) as { backups: number }).backups).toBe(1);
    // Long before the straggler's own 60 s.
    expect(clock.t - 1_000_000).toBeLessThan(5_000);
  });

  test('speculate off (the default): the straggler is waited for, no second attempt', async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock, undefined, undefined, { runMsOf: (p) => (p.part === 7 ? 60_000 : 100) });
    const { result } = run({ fleet, clock, parts: 20, concurrency: 20, overdueSlackMs: 120_000, stage: stage({ timeoutMs: 120_000 }) });
    expect(await result).toMatchObject({ total: 20, succeeded: 20 });
    expect(fleet.sent).toHaveLength(20);
    expect(clock.t - 1_000_000).toBeGreaterThanOrEqual(60_000);
  });

  test('fair share: while another stage of the job waits, this one takes no more than its share of the window', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    store.othersInFlight = 2;
    store.othersWaiting = 1;
    const fleet = new FakeFleet(clock, () => 'lost');
    const ac = new AbortController();
    const { result } = run({ store, fleet, clock, parts: 50, concurrency: 10, signal: ac.signal, onTurn: () => fleet.sent.length > 0 && ac.abort(new Error('enough')) });
    await expect(result).rejects.toThrow('enough');
    // Two stages share a window of 10: this one gets 5, though 8 slots are free.
    expect(fleet.sent).toHaveLength(5);
    // And it records how many parts it has ready but no slot for.
    expect(store.waiting[0]).toBe(45);
  });

  test('retry with backoff: a retryable failure is sent again as the next attempt only once its backoff has passed', async () => {
    const clock = new FakeClock();
    const times: { part: number; attempt: number; at: number }[] = [];
    const fleet = new FakeFleet(clock, (p, nth) => {
      times.push({ part: p.part, attempt: p.attempt, at: clock.now() });
      return p.part === 1 && nth <= 2 ? 'fail' : 'ok';
    });
    const counts = await run({ fleet, clock, parts: 3 }).result;
    expect(counts).toMatchObject({ total: 3, succeeded: 3, failed: 0, retried: 1 });
    const tries = times.filter((t) => t.part === 1);
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    // Backoff 100 ms, then 200 ms (exponential), measured on the loop's clock.
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(100);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(200);
  });

  test('a permanent failure is not retried, and past the attempts a part fails finally', async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock, (p) => (p.part === 0 ? 'permanent' : p.part === 1 ? 'fail' : 'ok'));
    const counts = await run({ fleet, clock, parts: 3 }).result;
    expect(counts).toMatchObject({ total: 3, succeeded: 1, failed: 2 });
    expect(fleet.sent.filter((s) => s.part === 0)).toHaveLength(1);
    expect(fleet.sent.filter((s) => s.part === 1).map((s) => s.attempt)).toEqual([1, 2, 3]);
  });

  test('overdue: a started part whose completion never comes is failed as timed out after timeout + slack from its start, then retried', async () => {
    const clock = new FakeClock();
    // Part 0's first attempt starts (the worker says so) but its completion is lost.
    const fleet = new FakeFleet(clock, () => 'ok', new Set(), { runMs: 10 });
    const lose = fleet.receive.bind(fleet);
    let dropped = false;
    fleet.receive = async (w) => {
      const batch = await lose(w);
      if (!dropped) {
        const i = batch.results.findIndex((r) => r.result.part === 0);
        if (i >= 0) {
          batch.results.splice(i, 1);
          dropped = true;
        }
      }
      return batch;
    };
    const counts = await run({ fleet, clock, parts: 2, overdueSlackMs: 500 }).result;
    expect(counts).toMatchObject({ total: 2, succeeded: 2, retried: 1 });
    const part0 = fleet.sent.filter((s) => s.part === 0);
    expect(part0.map((s) => s.attempt)).toEqual([1, 2]);
    // Resent no earlier than timeout (1000) + slack (500) + backoff (100) after it started.
    expect(part0[1].at - part0[0].at).toBeGreaterThanOrEqual(1600);
  });

  test('time in the queue is not run time: parts waiting far longer than their timeout behind a small fleet all succeed at attempt 1', async () => {
    const clock = new FakeClock();
    // One slot: part n starts n × 2 s after it was sent, runs 2 s; the timeout is 1 s + 0.5 s slack.
    let n = 0;
    const fleet = new FakeFleet(clock, () => 'ok', new Set(), { startDelayMs: () => 2000 * n++, runMs: 900 });
    const counts = await run({ fleet, clock, parts: 30, concurrency: 30, overdueSlackMs: 500 }).result;
    expect(counts).toMatchObject({ total: 30, succeeded: 30, failed: 0, retried: 0 });
    expect(fleet.sent).toHaveLength(30);
  });

  test('an input queue SQS made again loses its unstarted messages: those parts are sent again under the same attempt, no retry spent', async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock, () => 'ok', new Set(), { startDelayMs: (p) => (p.part < 2 ? 0 : 60_000) });
    let lost = false;
    const counts = await run({
      fleet, clock, parts: 4, concurrency: 4,
      onTurn: () => {
        if (!lost && clock.now() > 1_000_000 + 2000) {
          fleet.loseQueue();
          lost = true;
        }
      },
    }).result;
    expect(counts).toMatchObject({ total: 4, succeeded: 4, failed: 0, retried: 0 });
    expect(fleet.sent.filter((s) => s.part >= 2).map((s) => [s.part, s.attempt])).toEqual([[2, 1], [3, 1], [2, 1], [3, 1]]);
  });

  test('pause: nothing is sent while the job is paused; resume sends the rest', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    store.jobStatus = 'paused';
    const fleet = new FakeFleet(clock);
    let turns = 0;
    let sentWhilePaused = -1;
    const { result } = run({
      store, fleet, clock, parts: 6, concurrency: 2,
      onTurn: () => {
        turns += 1;
        clock.t += 300; // the loop reads the job's status once a second of its clock
        if (turns === 10) {
          sentWhilePaused = fleet.sent.length;
          store.jobStatus = 'running';
        }
      },
    });
    const counts = await result;
    expect(sentWhilePaused).toBe(0);
    expect(counts).toMatchObject({ total: 6, succeeded: 6 });
    expect(fleet.sent).toHaveLength(6);
  });

  test('cancel: an aborted signal stops the loop at once with its reason, and nothing more is sent', async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock, () => 'lost');
    const ac = new AbortController();
    const { result } = run({ fleet, clock, parts: 100, concurrency: 4, signal: ac.signal, onTurn: () => ac.abort(new Error('cancelled by the job')) });
    await expect(result).rejects.toThrow('cancelled by the job');
    expect(fleet.sent).toHaveLength(4);
  });

  test('a newer attempt owning the stage supersedes this one: it stops without sending more', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    const fleet = new FakeFleet(clock, () => 'lost');
    const { result } = run({ store, fleet, clock, parts: 100, concurrency: 4, onTurn: () => ((store.runnerAttempt = 2), (clock.t += 1000)) });
    await expect(result).rejects.toBeInstanceOf(StageSupersededError);
    expect(fleet.sent).toHaveLength(4);
  });

  test('resume after a crash with parts recorded as queued but never sent: they are sent again under the same attempt, counted once', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    // The dead attempt 1 recorded parts 0–3 queued (attempt 1) and 4 succeeded, then died before sending 0–3.
    for (const part of [0, 1, 2, 3]) store.rows.set(part, { part, attempt: 1, status: 'queued', deadlineAt: clock.now() + 60_000 });
    store.rows.set(4, { part: 4, attempt: 1, status: 'succeeded' });
    store.runnerAttempt = 2;
    const fleet = new FakeFleet(clock);
    const counts = await run({ store, fleet, clock, parts: 8, attempt: 2 }).result;
    expect(counts).toMatchObject({ total: 8, succeeded: 8, failed: 0, retried: 0 });
    expect(fleet.sent.slice(0, 4).map((s) => ({ part: s.part, attempt: s.attempt }))).toEqual([0, 1, 2, 3].map((part) => ({ part, attempt: 1 })));
    // The cursor resumed after the recorded parts: 5, 6, 7 are new, 4 is never sent again.
    expect(fleet.sent.slice(4).map((s) => s.part)).toEqual([5, 6, 7]);
  });

  /** A receiver over the fake fleet whose receives and deletions take a turn of the event loop each, logging when they start and end. */
  const pipelinedReceiver = (fleet: FakeFleet, events: string[], o: { failSettle?: number } = {}) => {
    let receives = 0;
    let settles = 0;
    const signals: AbortSignal[] = [];
    const turn = () => new Promise((r) => setImmediate(r));
    const receiver: CompletionReceiver = {
      async receive(w, _lanes, signal) {
        const i = receives++;
        signals.push(signal!);
        events.push(`receive ${i}`);
        const batch = await fleet.receive(w);
        await turn();
        events.push(`received ${i}: ${batch.results.map((r) => r.result.part).join(',')}`);
        return {
          ...batch,
          async settle() {
            const n = settles++;
            events.push(`settle ${i}`);
            await turn();
            if (n === o.failSettle) throw new Error(`deletion ${n} failed`);
            events.push(`settled ${i}`);
          },
        };
      },
    };
    return { receiver, signals };
  };

  test('pipelined: the next receive is out while a batch is applied; batches applied one at a time in the order received; the end abandons the receive ahead and awaits the last deletion', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    const events: string[] = [];
    const applied: number[][] = [];
    const applyResults = store.applyResults.bind(store);
    store.applyResults = async (successes, failures) => {
      events.push(`apply ${successes.map((r) => r.result.part).join(',')}`);
      applied.push(successes.map((r) => r.result.part));
      return applyResults(successes, failures);
    };
    const fleet = new FakeFleet(clock, () => 'ok', new Set(), { runMsOf: (p) => 10 * (p.part + 1) });
    const { receiver, signals } = pipelinedReceiver(fleet, events);
    const counts = await run({ store, fleet, clock, parts: 12, concurrency: 4, receiver }).result;
    events.push('done');
    expect(counts).toMatchObject({ total: 12, succeeded: 12, failed: 0 });
    // Every applied batch is the batch received just before it, whole, in the order received.
    const receivedBatches = events.filter((e) => e.startsWith('received ')).map((e) => e.split(': ')[1]).filter((parts) => parts !== '');
    expect(applied.filter((b) => b.length > 0).map((b) => b.join(','))).toEqual(receivedBatches);
    expect(applied.flat().sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    // Overlap: the receive after batch i was sent before batch i was applied.
    for (const [k, e] of events.entries()) {
      if (!e.startsWith('apply ')) continue;
      const received = events.slice(0, k).filter((x) => x.startsWith('received ')).length;
      expect(events.slice(0, k).filter((x) => x.startsWith('receive ')).length).toBe(received + 1);
    }
    // The end: the receive ahead was abandoned, and every deletion had finished before the loop returned.
    expect(signals.at(-1)!.aborted).toBe(true);
    expect(signals.slice(0, -1).some((s) => s.aborted)).toBe(false);
    const done = events.indexOf('done');
    expect(events.filter((e) => e.startsWith('settle ')).length).toBe(events.slice(0, done).filter((e) => e.startsWith('settled ')).length);
  });

  test('pipelined: a deletion that fails ends the attempt with its error', async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock, () => 'ok', new Set(), { runMs: 5 });
    const { receiver } = pipelinedReceiver(fleet, [], { failSettle: 0 });
    await expect(run({ fleet, clock, parts: 40, concurrency: 2, receiver }).result).rejects.toThrow('deletion 0 failed');
  });

  test('a part too large for any task message fails at once, not retried, naming the sizes', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    const fleet = new FakeFleet(clock, () => 'ok', new Set([1]));
    const counts = await run({ store, fleet, clock, parts: 3, stage: stage({ params: { p: 'x' } }) }).result;
    expect(counts).toMatchObject({ total: 3, succeeded: 2, failed: 1, retried: 0 });
    expect(store.rows.get(1)).toMatchObject({ status: 'failed', attempt: 1 });
  });
});
