import { allocateByWeight, ASSUMED_SLOTS, fleetBudget } from '../../activities/fair-share';

describe('fleetBudget: slots plus queueAheadMs of queued work', () => {
  test('parts of 200 ms on 8 slots with 3 s ahead: 8 running and 120 queued', () => {
    expect(fleetBudget({ slots: 8, meanRunMs: 200, queueAheadMs: 3000 })).toBe(128);
  });
  test('short parts make it large, long parts bring it down to the slots and a little', () => {
    expect(fleetBudget({ slots: 128, meanRunMs: 1, queueAheadMs: 3000 })).toBe(128 * 3001);
    expect(fleetBudget({ slots: 4, meanRunMs: 60_000, queueAheadMs: 3000 })).toBe(5);
  });
  test('before any part finished, or with no live worker, it assumes 1 s parts and a few slots', () => {
    expect(fleetBudget({ slots: 8, meanRunMs: undefined, queueAheadMs: 3000 })).toBe(32);
    expect(fleetBudget({ slots: 0, meanRunMs: 500, queueAheadMs: 1000 })).toBe(ASSUMED_SLOTS * 3);
  });
});

describe('allocateByWeight: max-min fair by priority', () => {
  const jobs = (...js: [string, number, number][]) => js.map(([jobId, weight, demand]) => ({ jobId, weight, demand }));

  test('two saturating jobs with weights 3 and 1 split the budget 3:1', () => {
    expect(Object.fromEntries(allocateByWeight(100, jobs(['a', 3, 1000], ['b', 1, 1000])))).toEqual({ a: 75, b: 25 });
  });
  test('a job that needs less than its share keeps what it needs; the rest goes to the others by weight', () => {
    expect(Object.fromEntries(allocateByWeight(100, jobs(['a', 1, 10], ['b', 1, 1000], ['c', 3, 1000])))).toEqual({ a: 10, b: 23, c: 68 });
  });
  test('everyone satisfied: each gets its demand', () => {
    expect(Object.fromEntries(allocateByWeight(100, jobs(['a', 5, 10], ['b', 1, 20])))).toEqual({ a: 10, b: 20 });
  });
  test('a high-priority job behind a huge low-priority one gets nearly all of the budget at once', () => {
    const shares = allocateByWeight(128, jobs(['backlog', 1, 100_000], ['urgent', 100, 50]));
    expect(shares.get('urgent')).toBe(50);
    expect(shares.get('backlog')).toBe(78);
  });
  test('a job with no demand gets nothing; one with demand always gets at least one part', () => {
    expect(Object.fromEntries(allocateByWeight(3, jobs(['idle', 1, 0], ['a', 100, 1000], ['b', 1, 1000])))).toEqual({ idle: 0, a: 3, b: 1 });
  });
});
