import type { AwsClients } from '../../common/aws';
import { distPath } from '../../common/paths';
import { runEngineJob, type EngineSetup, type StageDef } from './engine';
import { skewedMs } from './skew-tasks';
import { note } from './processes';
import { spreadOf, type Spread } from './stats';

/** The long tail of the skewed job: Pareto run times, shortest 10 ms, shape 1.2, longest 2 s. */
export const SKEW = { minMs: 10, alpha: 1.2, maxMs: 2000 } as const;

export interface SkewResult {
  parts: number;
  distribution: typeof SKEW;
  /** Makespans in seconds, per round. */
  stream: Spread;
  barrier: Spread;
  /** Barrier makespan over stream makespan, round by round. */
  ratio: Spread;
  /**
   * Lower bounds of the makespans from the run times alone (any number of slots, no overhead):
   * barrier, the slowest part of each stage one after the other; stream, the slowest part's two
   * stages together. What the engine adds to these is its own overhead and the fleet's slots.
   */
  boundSeconds: { stream: number; barrier: number };
}

/** Two `bench.skewed` stages, each with its own draw of run times, chained by `chain`. */
function boundSeconds(parts: number): SkewResult['boundSeconds'] {
  const first = Array.from({ length: parts }, (_, i) => skewedMs({ ...SKEW, seed: 1 }, i));
  const second = Array.from({ length: parts }, (_, i) => skewedMs({ ...SKEW, seed: 2 }, i));
  return {
    barrier: (Math.max(...first) + Math.max(...second)) / 1000,
    stream: Math.max(...first.map((t, i) => t + second[i])) / 1000,
  };
}

const skewedStages = (chain: 'stream' | 'barrier'): StageDef[] => [
  { id: 'first', task: 'bench.skewed', params: { ...SKEW, seed: 1 } },
  { id: 'second', task: 'bench.skewed', params: { ...SKEW, seed: 2 }, needs: ['first'], chain },
];

/**
 * Stream against barrier on a skewed two-stage job: the same parts and run times, chained one way
 * and the other, interleaved for `rounds` rounds. A barrier waits for the first stage's slowest part
 * before the second starts; a stream lets the second stage's work fill the fleet meanwhile.
 */
export async function streamAgainstBarrier(aws: AwsClients, setup: EngineSetup, parts: number, rounds: number): Promise<SkewResult> {
  const withTasks = { ...setup, tasksModule: distPath('scripts/bench/skew-tasks.js') };
  const stream: number[] = [];
  const barrier: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const [chain, into] of [['stream', stream], ['barrier', barrier]] as const) {
      const r = await runEngineJob(aws, withTasks, parts, skewedStages(chain));
      into.push(r.seconds);
      note(`skew round ${round}: ${chain} ${r.seconds.toFixed(1)} s`);
    }
  }
  return { parts, distribution: SKEW, stream: spreadOf(stream), barrier: spreadOf(barrier), ratio: spreadOf(barrier.map((b, i) => b / stream[i])), boundSeconds: boundSeconds(parts) };
}
