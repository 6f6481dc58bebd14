/**
 * The compiled form of a pipeline: what `compilePipeline()` returns after validation, what the
 * workflow receives and what activities read. Durations are milliseconds, sizes bytes.
 * Pure types: safe to import anywhere, including workflows.
 */

export type SplitSpec =
  /** One part per S3 object under the job's input prefix. */
  | { by: 'object' }
  /** `size` lines per part; parts are byte ranges aligned to line ends. */
  | { by: 'lines'; size: number }
  /** About `size` bytes per part, each range extended to the next line end so no record is cut. */
  | { by: 'bytes'; size: number }
  /** An explicit manifest: a JSON Lines object under the input prefix (default `manifest.jsonl`), one part per line. */
  | { by: 'manifest'; key: string };

export interface RetryPolicy {
  /** Total attempts per part, including the first. */
  attempts: number;
  /** Delay before the first retry, in ms; doubles each retry. */
  backoffMs: number;
  /** Upper bound of the delay, in ms. */
  maxBackoffMs: number;
}

export interface Tolerance {
  /** Finally failed parts allowed: an absolute count… */
  failedParts?: number;
  /** …or a percentage (0–100) of the stage's parts. */
  failedPercent?: number;
}

export type ChainMode = 'barrier' | 'stream';

export interface StageDef {
  id: string;
  /** Handler name registered on fleet workers, e.g. `claims.validate` or the built-in `exec`. */
  task: string;
  /** Any JSON, handed to the handler (parsed there by the task's own schema). */
  params: unknown;
  /** Per part attempt, in ms. */
  timeoutMs: number;
  retry: RetryPolicy;
  tolerate: Tolerance;
  /** Upstream stage ids (DAG edges). Empty: the stage reads the job input. */
  needs: string[];
  /** barrier: start after every upstream part is done; stream: each upstream part's output becomes a part as soon as it succeeds. */
  chain: ChainMode;
  /** One part over all upstream outputs (a reduce). */
  gather: boolean;
  /** How a root stage splits the job input; defaults to the pipeline's `input.split`. */
  split?: SplitSpec;
  /** The fleet that runs this stage's parts; the compiler sets the pipeline's when the stage names none. */
  fleet?: string;
  /** Most parts of this stage in flight at once, within the job's `concurrency`. Default: no cap of its own. */
  concurrency?: number;
  /**
   * Backup attempts for stragglers: once `afterPercent` of the stage's parts have finished, a part
   * running more than `slowerThan` × the median run time of its finished peers gets a second
   * attempt on another worker; the first success wins, the other is aborted. Default: off.
   */
  speculate?: Speculation;
  /**
   * Reuse the outputs of an identical part from an earlier job (the content-addressed part cache):
   * same task, handler version, params and input bytes. Default: false.
   */
  cache?: boolean;
}

export interface Speculation {
  afterPercent: number;
  slowerThan: number;
}

export interface PipelineDef {
  apiVersion: 'batchgrid/v1';
  kind: 'Pipeline';
  name: string;
  description?: string;
  /** Which worker fleet (input queue) runs the parts. */
  fleet: string;
  /** Max parts of one job in flight. */
  concurrency: number;
  /**
   * The job's weight in the fair share of each fleet it runs on (1–100; a job of priority 3 gets
   * three times the share of a job of priority 1). Set by the parser (default 1) and by submit.
   */
  priority?: number;
  input: { split: SplitSpec };
  stages: StageDef[];
}

/** One problem with a definition: `path` like `stages[1].needs[0]`, and the YAML line when known. */
export interface Problem {
  path: string;
  message: string;
  line?: number;
}

export type CompileResult = { ok: true; pipeline: PipelineDef } | { ok: false; problems: Problem[] };
