/**
 * The S3 key layout of a job, in one place: every reader and writer of job data (client, API,
 * activities, fleet workers, reports) builds its keys here. Pure: safe in workflows.
 *
 *   jobs/<job>/input/…                              raw data
 *   jobs/<job>/stages/<stage>/manifest.jsonl        the part manifest of a planned stage
 *   jobs/<job>/stages/<stage>/inputs.jsonl          a gather stage's input list
 *   jobs/<job>/stages/<stage>/parts/<part>/…        a part's outputs (and its claim-checked inputs)
 *   jobs/<job>/stages/<stage>/closed.json           written when the stage run is over, before its queue goes
 *   jobs/<job>/results.jsonl                        the job's results
 */
export const jobPrefix = (jobId: string) => `jobs/${jobId}/`;
export const inputPrefixOf = (jobId: string) => `${jobPrefix(jobId)}input/`;
export const stagesPrefix = (jobId: string) => `${jobPrefix(jobId)}stages/`;
export const stagePrefix = (jobId: string, stageId: string) => `${stagesPrefix(jobId)}${stageId}/`;
export const manifestKeyOf = (jobId: string, stageId: string) => `${stagePrefix(jobId, stageId)}manifest.jsonl`;
export const gatherInputsKeyOf = (jobId: string, stageId: string) => `${stagePrefix(jobId, stageId)}inputs.jsonl`;
export const partPrefixOf = (jobId: string, stageId: string, part: number) => `${stagePrefix(jobId, stageId)}parts/${part}/`;
/** Where a backup attempt of a straggler writes its outputs: apart from the first attempt's, so the loser never overwrites what the winner wrote. */
export const partAttemptPrefixOf = (jobId: string, stageId: string, part: number, attempt: number) => `${partPrefixOf(jobId, stageId, part)}attempt-${attempt}/`;
/** Written when a part that had a backup attempt succeeded (`{ attempt }`: the winner): the worker running the other attempt aborts it. */
export const partWonKeyOf = (jobId: string, stageId: string, part: number) => `${stagePrefix(jobId, stageId)}won/${part}.json`;
/**
 * The version of a task's handler on a fleet's workers (`{ version }`), written by each worker as
 * it starts: the orchestrator keys cached parts by it before sending anything (docs/engine.md, "Part cache").
 */
export const taskVersionKeyOf = (queuePrefix: string, fleet: string, task: string) => `fleets/${queuePrefix}/${fleet}/task-versions/${encodeURIComponent(task)}.json`;
/** A part's input list when it is too long to travel inline in a task message. */
export const partInputsKeyOf = (jobId: string, stageId: string, part: number) => `${stagePrefix(jobId, stageId)}part-inputs/${part}.jsonl`;
/**
 * Longest input list a part carries inline in its task message, in bytes of JSON. A longer one
 * (a barrier joining upstreams with many outputs, a stream part of a chatty upstream part) is
 * claim-checked: written to S3 at partInputsKeyOf, the message carries its key. 32 KiB keeps a
 * packed message of several parts well inside SQS's 256 KiB.
 */
export const INLINE_INPUTS_MAX_BYTES = 32 * 1024;
/** Where a part's input list is claim-checked, or undefined when it is short enough to travel inline. */
export const claimCheckKeyOf = (jobId: string, stageId: string, part: number, inputs: unknown[]): string | undefined =>
  new TextEncoder().encode(JSON.stringify(inputs)).byteLength <= INLINE_INPUTS_MAX_BYTES ? undefined : partInputsKeyOf(jobId, stageId, part);
/** Marks a stage run as over (finished, failed or cancelled): a fleet worker that finds the stage's completion queue missing reads it to tell "over" from "lost". */
export const stageClosedKeyOf = (jobId: string, stageId: string) => `${stagePrefix(jobId, stageId)}closed.json`;
export const resultsKeyOf = (jobId: string) => `${jobPrefix(jobId)}results.jsonl`;
