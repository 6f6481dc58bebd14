import type { Profile } from './profile';

/** What one run of one system measured. */
export interface RunResult {
  /** Seconds from the first part offered to the last part done. */
  seconds: number;
  /** Peak resident memory of each process this run started, in MiB, by process name. */
  memoryMiB: Record<string, number>;
  /** Workflow history events of the run (the hand-rolled fan-out: summed over its continue-as-new chain). */
  historyEvents?: number;
  /** Workflow runs in the continue-as-new chain (hand-rolled fan-out only). */
  workflowRuns?: number;
  /** Postgres bytes (table, indexes and TOAST of task_rows on disk) per part per stage (engine only). */
  bytesPerPartStage?: number;
  /** The store's own count of the job's bytes per part-stage (store/compaction), live and once compacted (engine only). */
  storeBytesPerPartStage?: { live: number; compacted: number };
  /** Where the run's time went (engine only): CPU per process, calls, row writes. */
  profile?: Profile;
}

/** One contender in the benchmark: the engine or a peer. Each run starts and stops its own processes. */
export interface BenchSystem {
  /** Key in the JSON document. */
  id: string;
  /** Column heading in the table. */
  label: string;
  /** Larger sizes skip this system (and the output says so). Default: no limit. */
  maxParts?: number;
  /** Larger sizes run this system at this many parts instead (and the output says so). Default: no cap. */
  capParts?: number;
  run(parts: number): Promise<RunResult>;
  /** Stops what the system shares between runs (BullMQ's Redis). */
  close?(): Promise<void>;
}
