import { engineMemoryGrowth, type SizeReport } from '../../scripts/bench/report';
import { skewedMs } from '../../scripts/bench/skew-tasks';
import { formatRate, formatRatio, pairedRatios, spreadOf } from '../../scripts/bench/stats';

describe('spreadOf', () => {
  it('gives the median, lowest and highest and keeps the rounds in their order', () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, rounds: [3, 1, 2] });
    expect(spreadOf([4, 1, 3, 2]).median).toBe(2.5);
    expect(spreadOf([7]).median).toBe(7);
  });

  it('refuses no values', () => {
    expect(() => spreadOf([])).toThrow('spreadOf needs at least one value');
  });
});

describe('pairedRatios', () => {
  it('divides each round by the same round of the peer, not medians by medians', () => {
    // Round 2 is a noisy stretch that slowed both: paired, the ratio stays 2.
    const r = pairedRatios([200, 100, 200], [100, 50, 100]);
    expect(r).toMatchObject({ median: 2, min: 2, max: 2 });
  });

  it('leaves out rounds the peer did not run and answers undefined when none are left', () => {
    expect(pairedRatios([100, 300], [50])).toMatchObject({ median: 2, rounds: [2] });
    expect(pairedRatios([100], [])).toBeUndefined();
  });

  it('formats a ratio and a rate with their spread', () => {
    expect(formatRatio(spreadOf([0.5, 0.52, 0.61]))).toBe('0.52× (0.50–0.61)');
    expect(formatRate(spreadOf([3728.4, 1806, 5720]))).toBe('3,728 (1,806–5,720)');
  });
});

describe('skewedMs', () => {
  const p = { minMs: 10, alpha: 1.2, maxMs: 2000, seed: 1 };
  const draws = Array.from({ length: 10_000 }, (_, part) => skewedMs(p, part));

  it('draws the same run time for the same part and seed, another for another seed', () => {
    expect(skewedMs(p, 42)).toBe(draws[42]);
    const other = Array.from({ length: 100 }, (_, part) => skewedMs({ ...p, seed: 2 }, part));
    expect(other).not.toEqual(draws.slice(0, 100));
  });

  it('stays between the shortest and the cap and has a long tail', () => {
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...draws)).toBeLessThanOrEqual(2000);
    const sorted = [...draws].sort((a, b) => a - b);
    const median = sorted[5000];
    // Pareto(10 ms, 1.2): median 10 · 2^(1/1.2) ≈ 17.8 ms; the slowest 1 % run at least 10 · 100^(1/1.2) ≈ 464 ms.
    expect(median).toBeGreaterThan(15);
    expect(median).toBeLessThan(21);
    expect(sorted[9900]).toBeGreaterThan(350);
  });
});

describe('engineMemoryGrowth', () => {
  const size = (parts: number, peakMiB: Record<string, number>): SizeReport => ({
    parts,
    rounds: 1,
    systems: { engine: { label: 'engine', parts, partsPerSecond: spreadOf([1]), seconds: spreadOf([1]), peakMiB } },
    ratios: {},
    skipped: [],
    capped: [],
    sharedServicesPeakMiB: {},
  });

  it('compares every larger size with the smallest, taking the larger fleet worker', () => {
    const growth = engineMemoryGrowth([
      size(20_000, { orchestrator: 400, 'fleet-worker-1': 200, 'fleet-worker-2': 220 }),
      size(1_000_000, { orchestrator: 500, 'fleet-worker-1': 231, 'fleet-worker-2': 198 }),
    ]);
    expect(growth).toEqual([{ parts: 1_000_000, baseParts: 20_000, orchestratorMiB: 500, orchestratorPct: 25, fleetWorkerMiB: 231, fleetWorkerPct: 5 }]);
  });

  it('has nothing to compare with one size', () => {
    expect(engineMemoryGrowth([size(20_000, { orchestrator: 400, 'fleet-worker-1': 200 })])).toEqual([]);
  });
});
