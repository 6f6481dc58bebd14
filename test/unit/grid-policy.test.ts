import { backlogOf, backlogTarget, decide, decideManual, initialPolicyState, type PolicySettings, type PolicyState } from '../../grid/policy';

const s: PolicySettings = { min: 0, max: 5, targetBacklogPerWorker: 4, scaleInCooldownMs: 2000, idleTimeoutMs: 3000 };

/** Runs the policy over a timeline of (ms, visible, inFlight), applying each desired as the next current. */
function run(settings: PolicySettings, timeline: [number, number, number][], start = 0) {
  let state: PolicyState = initialPolicyState();
  let current = start;
  const out: string[] = [];
  for (const [now, visible, inFlight] of timeline) {
    const d = decide(settings, { now, visible, inFlight, current }, state);
    state = d.state;
    if (d.changed) out.push(`${now}: ${current}->${d.desired} ${d.kind}`);
    current = d.desired;
  }
  return out;
}

describe('backlogTarget', () => {
  test.each([
    [0, 0, 0],
    [1, 0, 1],
    [4, 0, 1],
    [5, 0, 2],
    [3, 5, 2],
    [100, 100, 5],
  ])('%i visible + %i in flight → %i workers', (visible, inFlight, want) => {
    expect(backlogTarget(s, backlogOf({ now: 0, visible, inFlight, current: 0 }))).toBe(want);
  });

  test('min holds with an empty queue', () => {
    expect(backlogTarget({ ...s, min: 2 }, 0)).toBe(2);
  });

  test('the whole backlog: parts behind job windows count, and the store\'s count of parts out when the queue shows fewer (packed) messages', () => {
    expect(backlogOf({ now: 0, visible: 10, inFlight: 0, current: 0, unsent: 1900, sent: 100 })).toBe(2000);
    expect(backlogOf({ now: 0, visible: 30, inFlight: 0, current: 0, unsent: 0, sent: 10 })).toBe(30);
  });
});

describe('expected work (targetWorkPerWorker)', () => {
  const w: PolicySettings = { ...s, max: 50, targetWorkPerWorkerMs: 10 * 60_000 };
  test('parts of known run time count by their work: 20 parts of 5 min ask for 10 workers, not the 5 their count would', () => {
    expect(backlogTarget(s, 20)).toBe(5);
    expect(backlogTarget(w, 20, { parts: 20, workMs: 20 * 5 * 60_000 })).toBe(10);
  });
  test('short parts ask for few workers however many there are; parts of unknown run time still count as parts', () => {
    expect(backlogTarget(w, 2000, { parts: 2000, workMs: 2000 * 100 })).toBe(1);
    expect(backlogTarget(w, 2008, { parts: 2000, workMs: 2000 * 100 })).toBe(3);
  });
  test('without the setting, or before any run time is known, parts only', () => {
    expect(backlogTarget(s, 20, { parts: 20, workMs: 20 * 5 * 60_000 })).toBe(5);
    expect(backlogTarget(w, 20, { parts: 0, workMs: 0 })).toBe(5);
  });
  test('the decision says what the work was', () => {
    const d = decide(w, { now: 0, visible: 0, inFlight: 0, unsent: 16, sent: 4, timed: { parts: 20, workMs: 6_000_000 }, current: 0 }, initialPolicyState());
    expect(d).toMatchObject({ desired: 10, kind: 'queued from zero' });
    expect(d.reason).toBe('queued from zero: 16 parts behind job windows + 0 queued + 0 in flight, target 4 per worker; expected work 100 min in 20 parts of known run time, target 10 min per worker');
  });
});

describe('decide with the whole backlog', () => {
  test('grows to max from parts waiting behind a job window, and says so', () => {
    const d = decide(s, { now: 0, visible: 20, inFlight: 80, current: 1, unsent: 1900, sent: 100 }, initialPolicyState());
    expect(d).toMatchObject({ desired: 5, kind: 'scale out', changed: true });
    expect(d.reason).toBe('scale out: 1900 parts behind job windows + 20 queued + 80 in flight, target 4 per worker');
  });
});

describe('decide', () => {
  test('leaves zero as soon as anything is queued, straight to what the backlog needs', () => {
    expect(decide(s, { now: 0, visible: 1, inFlight: 0, current: 0 }, initialPolicyState())).toMatchObject({ desired: 1, kind: 'queued from zero', changed: true });
    expect(decide(s, { now: 0, visible: 13, inFlight: 0, current: 0 }, initialPolicyState())).toMatchObject({ desired: 4, kind: 'queued from zero' });
  });

  test('scales out at once, bounded by max', () => {
    const d = decide(s, { now: 0, visible: 40, inFlight: 8, current: 2 }, initialPolicyState());
    expect(d).toMatchObject({ desired: 5, kind: 'scale out', changed: true });
    expect(d.reason).toBe('scale out: 40 queued + 8 in flight, target 4 per worker');
  });

  test('scales in only after the backlog asked for fewer for the whole cooldown', () => {
    expect(run(s, [[0, 20, 0], [1000, 4, 4], [2000, 4, 4], [2999, 4, 4], [3000, 4, 4]], 5)).toEqual(['3000: 5->2 scale in']);
  });

  test('a burst during the cooldown restarts it', () => {
    expect(run(s, [[0, 4, 0], [1500, 20, 0], [2500, 4, 0], [4000, 4, 0], [4500, 4, 0]], 5)).toEqual(['4500: 5->1 scale in']);
  });

  test('cooldown never empties the fleet; the idle timeout does, after an empty queue', () => {
    expect(run(s, [[0, 0, 0], [2000, 0, 0], [2999, 0, 0], [3000, 0, 0]], 3)).toEqual(['2000: 3->1 scale in', '3000: 1->0 idle']);
  });

  test('anything in flight keeps the fleet from going idle', () => {
    expect(run(s, [[0, 0, 1], [5000, 0, 1], [6000, 0, 0], [8999, 0, 0], [9000, 0, 0]], 1)).toEqual(['9000: 1->0 idle']);
  });

  test('the full story: 0 → up → down → 0', () => {
    const story = run(s, [
      [0, 0, 0],
      [1000, 2, 0],
      [2000, 14, 2],
      [3000, 10, 8],
      [4000, 0, 6],
      [5000, 0, 0],
      [6000, 0, 0],
      [7000, 0, 0],
      [8000, 0, 0],
    ]);
    expect(story).toEqual(['1000: 0->1 queued from zero', '2000: 1->4 scale out', '3000: 4->5 scale out', '6000: 5->1 scale in', '8000: 1->0 idle']);
  });

  test('with min > 0 the fleet never goes below min', () => {
    expect(run({ ...s, min: 2 }, [[0, 0, 0], [10_000, 0, 0], [20_000, 0, 0]], 4)).toEqual(['10000: 4->2 scale in']);
  });

  test('new bounds apply at once', () => {
    expect(decide({ ...s, max: 2 }, { now: 0, visible: 40, inFlight: 0, current: 5 }, initialPolicyState())).toMatchObject({ desired: 2, kind: 'above max' });
    expect(decide({ ...s, min: 3 }, { now: 0, visible: 0, inFlight: 0, current: 1 }, initialPolicyState())).toMatchObject({ desired: 3, kind: 'below min' });
  });

  test('max 0 keeps a fleet off whatever is queued', () => {
    expect(decide({ ...s, max: 0 }, { now: 0, visible: 9, inFlight: 0, current: 0 }, initialPolicyState())).toMatchObject({ desired: 0, changed: false });
  });

  test('steady ticks report cooling down', () => {
    const d = decide(s, { now: 0, visible: 0, inFlight: 4, current: 3 }, initialPolicyState());
    expect(d).toMatchObject({ desired: 3, kind: 'steady', changed: false, state: { belowSince: 0 } });
    expect(d.reason).toMatch(/cooling down/);
  });
});

describe('decideManual', () => {
  test('clamps and says so', () => {
    const d = decideManual(s, { now: 5, visible: 0, inFlight: 0, current: 1 }, 9);
    expect(d).toMatchObject({ desired: 5, kind: 'manual', changed: true, state: { belowSince: null, emptySince: 5 } });
    expect(d.reason).toBe('manual: set to 5 (asked 9, clamped to 0..5)');
  });

  test('holds for a cooldown: the policy restarts its clocks from it', () => {
    const slowIdle = { ...s, idleTimeoutMs: 60_000 };
    const manual = decideManual(slowIdle, { now: 10_000, visible: 0, inFlight: 0, current: 1 }, 4);
    const next = decide(slowIdle, { now: 11_000, visible: 0, inFlight: 0, current: 4 }, manual.state);
    expect(next).toMatchObject({ desired: 4, changed: false });
    const later = decide(slowIdle, { now: 12_500, visible: 0, inFlight: 0, current: 4 }, next.state);
    expect(later).toMatchObject({ desired: 4, changed: false });
    expect(decide(slowIdle, { now: 13_000, visible: 0, inFlight: 0, current: 4 }, later.state)).toMatchObject({ desired: 1, kind: 'scale in' });
  });
});
