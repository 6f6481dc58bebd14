import type { AwsClients } from '../../common/aws';
import { distPath } from '../../common/paths';
import { runEngineJob, type EngineSetup, type StageDef } from './engine';
import { note } from './processes';
import { spreadOf, type Spread } from './stats';

/** The straggler job: parts of `partMs` on `workers` × `slots`, one worker `slowdown` times slower. */
export const STRAGGLER = { parts: 32, partMs: 2000, workers: 4, slots: 2, slowdown: 10, after: '50%', slowerThan: 3 } as const;

export interface StragglerResult {
  setup: typeof STRAGGLER;
  /** Makespans in seconds, per round. */
  withBackups: Spread;
  without: Spread;
  /** Makespan without over makespan with, round by round. */
  ratio: Spread;
}

const stages = (speculate: boolean): StageDef[] => [
  { id: 'work', task: 'bench.straggle', params: { ms: STRAGGLER.partMs }, ...(speculate ? { speculate: { after: STRAGGLER.after, slowerThan: STRAGGLER.slowerThan } } : {}) },
];

/**
 * Backup attempts for stragglers (`speculate`), as MapReduce's backup tasks: one of four workers
 * is 10× slower, so the parts it takes finish long after the others. The same job with and
 * without `speculate`, interleaved for `rounds` rounds; the engine checks every part succeeded once.
 */
export async function stragglers(aws: AwsClients, setup: EngineSetup, rounds: number): Promise<StragglerResult> {
  const s: EngineSetup = {
    ...setup,
    workers: STRAGGLER.workers,
    workerConcurrency: STRAGGLER.slots,
    concurrency: STRAGGLER.parts,
    tasksModule: distPath('scripts/bench/straggler-tasks.js'),
    workerEnv: (i) => ({ BENCH_SLOWDOWN: String(i === 0 ? STRAGGLER.slowdown : 1) }),
  };
  const withBackups: number[] = [];
  const without: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const [speculate, into] of [[true, withBackups], [false, without]] as const) {
      const r = await runEngineJob(aws, s, STRAGGLER.parts, stages(speculate));
      into.push(r.seconds);
      note(`stragglers round ${round}: ${speculate ? 'with' : 'without'} backups ${r.seconds.toFixed(1)} s`);
    }
  }
  return { setup: STRAGGLER, withBackups: spreadOf(withBackups), without: spreadOf(without), ratio: spreadOf(without.map((w, i) => w / withBackups[i])) };
}
