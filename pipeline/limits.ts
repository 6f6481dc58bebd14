/**
 * Every size limit of batchgrid in one place, with the reason for each number. They are checked
 * at the edge (validate, submit, the client library, POST /v1/jobs) so that nothing a user writes
 * can produce a message or payload that SQS or Temporal refuses later, where it would be retried
 * without end. The fleet checks what handlers produce against the `PART_*` limits.
 *
 * The budget they share:
 * - SQS refuses a message body above 256 KiB (`SQS_MESSAGE_MAX_BYTES`), and a SendMessageBatch
 *   whose bodies add up to more. Both sides pack below `MESSAGE_BUDGET_BYTES`, leaving room for
 *   the envelope and message attributes.
 * - A task message carries its stage's params once, plus up to 10 parts (packing), each with its
 *   inline input references: params get a quarter of the budget, parts keep the rest.
 * - A completion message carries up to 100 part results; one result must still fit alone, so a
 *   part's whole completion entry (result, outputs, error, timings) stays below the budget minus
 *   the message header.
 * - Temporal refuses a payload above 2 MB, and a workflow's history above 50 MB: the compiled
 *   definition is the workflow's input and travels in a few activity inputs, so it is kept to a
 *   small fraction of a payload.
 *
 * Pure (no Node built-ins, no Buffer): importable by workflows.
 */

/** Largest message body SQS accepts, in bytes (256 KiB). */
export const SQS_MESSAGE_MAX_BYTES = 262_144;

/** Largest body batchgrid packs into one task or completion message, in bytes (200 KiB): 56 KiB below SQS's limit for the envelope, attributes and estimates. */
export const MESSAGE_BUDGET_BYTES = 200 * 1024;

/** Largest pipeline definition as written (file, stdin, request text), in bytes (1 MiB). Checked before parsing: a YAML document model takes tens of times its text in memory. */
export const PIPELINE_SOURCE_MAX_BYTES = 1024 * 1024;

/** Largest compiled definition (`PipelineDef`) as JSON, in bytes (256 KiB): it is the workflow's input and rides in activity inputs, far below Temporal's 2 MB per payload. */
export const PIPELINE_DEF_MAX_BYTES = 256 * 1024;

/** Largest `params` of one stage as JSON, in bytes (64 KiB): sent once in every task message, it leaves three quarters of MESSAGE_BUDGET_BYTES for up to 10 packed parts. */
export const STAGE_PARAMS_MAX_BYTES = 64 * 1024;

/** Largest value a handler may return, as JSON, in bytes (16 KiB): recorded per part in Postgres and results.jsonl, and a completion message still packs a dozen of them. */
export const PART_RESULT_MAX_BYTES = 16 * 1024;

/** Most outputs one part may write (1,000): each becomes a reference in the completion message, in results.jsonl and, chained, in a downstream part's task message. */
export const PART_OUTPUTS_MAX = 1_000;

/** Room kept in a completion message for its header (version, job, stage, worker ids), in bytes (2 KiB). */
export const COMPLETION_HEADER_BYTES = 2048;

/** Largest completion entry of one part (its PartResult as JSON: result, outputs, error, timings), in bytes: it must fit a completion message alone. */
export const PART_COMPLETION_MAX_BYTES = MESSAGE_BUDGET_BYTES - COMPLETION_HEADER_BYTES;

/** How long a submit's claim on a job id holds without being renewed, in ms (5 minutes); a submitter renews it while it uploads, so only a crashed one lets it lapse. */
export const JOB_CLAIM_TTL_MS = 5 * 60_000;

/** Byte length of `text` encoded as UTF-8 (what SQS, S3 and Temporal count), without Buffer or TextEncoder. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one code point above U+FFFF
      i++;
    } else bytes += 3; // lone surrogates are sent as U+FFFD, also 3 bytes
  }
  return bytes;
}

/** UTF-8 byte length of `JSON.stringify(value)`; 0 for what JSON leaves out (undefined, a function). Throws what JSON.stringify throws (a cycle, a BigInt). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 0 : utf8Bytes(json);
}

/** `307200` → `307,200`, locale-free (workflows have no say in the host's locale). */
export function formatCount(n: number): string {
  const [whole, fraction] = String(n).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** The one wording of a size problem: `307,200 bytes, over the limit of 65,536 bytes (why)`. */
export function overLimitMessage(bytes: number, limit: number, why: string): string {
  return `${formatCount(bytes)} bytes, over the limit of ${formatCount(limit)} bytes (${why})`;
}

/** Why each limit exists, as the error messages say it. */
export const LIMIT_REASONS = {
  source: 'a pipeline definition is a few stages; data belongs in the job input',
  definition: "the compiled definition travels in Temporal payloads; Temporal's limit is 2 MB per payload",
  params: "a task message must fit SQS's 256 KiB",
  result: 'a part result is a small summary; write larger data with ctx.writeOutput',
  outputs: "a part's outputs travel in its completion message; write fewer, larger outputs",
  completion: "a completion message must fit SQS's 256 KiB",
} as const;

/** A problem of a definition over a limit, by path segments (as `RawProblem` wants them). */
export interface SizeProblem {
  path: (string | number)[];
  message: string;
}

/** Bytes of a raw `params` value, or undefined when JSON cannot measure it (the shape check reports that). */
function paramsBytes(params: unknown): number | undefined {
  try {
    return jsonBytes(params);
  } catch {
    return undefined;
  }
}

/** Stages whose params are over STAGE_PARAMS_MAX_BYTES, read leniently from a raw (or compiled) definition. */
export function paramsProblems(raw: unknown): SizeProblem[] {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  const problems: SizeProblem[] = [];
  stages.forEach((stage: unknown, index) => {
    if (typeof stage !== 'object' || stage === null || !('params' in stage)) return;
    const bytes = paramsBytes((stage as { params: unknown }).params);
    if (bytes !== undefined && bytes > STAGE_PARAMS_MAX_BYTES) {
      problems.push({ path: ['stages', index, 'params'], message: overLimitMessage(bytes, STAGE_PARAMS_MAX_BYTES, LIMIT_REASONS.params) });
    }
  });
  return problems;
}

/** The problem of definition text over PIPELINE_SOURCE_MAX_BYTES, given its size in bytes; undefined when it fits. */
export function sourceProblem(bytes: number): SizeProblem | undefined {
  return bytes > PIPELINE_SOURCE_MAX_BYTES ? { path: [], message: `the definition is ${overLimitMessage(bytes, PIPELINE_SOURCE_MAX_BYTES, LIMIT_REASONS.source)}` } : undefined;
}

/** The size problems of a compiled definition: each stage's params over the limit, or else the whole definition over its own. */
export function definitionProblems(def: unknown): SizeProblem[] {
  const problems = paramsProblems(def);
  if (problems.length > 0) return problems; // the definition's size follows from them: one fix at a time
  const bytes = paramsBytes(def);
  if (bytes !== undefined && bytes > PIPELINE_DEF_MAX_BYTES) {
    problems.push({ path: [], message: `the compiled definition is ${overLimitMessage(bytes, PIPELINE_DEF_MAX_BYTES, LIMIT_REASONS.definition)}` });
  }
  return problems;
}
