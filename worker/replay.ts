import type { S3Client } from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../common/logger';
import type { InputRef, PartResult, TaskErrorInfo } from '../common/messages';
import { EXEC_SCRATCH_PREFIX } from './builtin/exec';
import { runPart } from './fleet/runner';
import type { TaskRegistry } from './registry';
import { countedBody, readObject, type PartObjects } from './task-context';
import type { OutputBody } from './task';

/** A part as `batchgrid part` knows it: what the fleet ran it with. */
export interface ReplayedPart {
  jobId: string;
  stageId: string;
  task: string;
  part: number;
  /** The attempt number the handler sees. */
  attempt: number;
  params: unknown;
  /** Per attempt, in ms. */
  timeoutMs: number;
  bucket: string;
  /** Every input, a claim-checked list already read. */
  inputs: readonly InputRef[];
  outputPrefix: string;
}

export interface ReplayOptions {
  part: ReplayedPart;
  registry: TaskRegistry;
  s3: S3Client;
  /** Gets `inputs/` (the downloaded inputs), `outputs/` (what the handler writes) and `part.json` (the outcome). */
  outDir: string;
  log: Logger;
}

export interface ReplayResult {
  result: PartResult;
  /** The local copy of each input, in input order (absent when it could not be downloaded: the handler then meets the same error). */
  inputFiles: (string | undefined)[];
  /** Each output's local file. */
  outputFiles: { key: string; file: string; bytes: number }[];
  /** The outcome as written to `part.json`. */
  reportFile: string;
}

const inputName = (ref: InputRef, i: number) => `${i}-${path.posix.basename(ref.key) || 'input'}${ref.start !== undefined || ref.end !== undefined ? `.${ref.start ?? 0}-${ref.end ?? ''}` : ''}`;

/** Writes a body to a file; returns its size. */
async function writeBody(file: string, body: OutputBody, signal: AbortSignal): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  if (typeof body === 'string' || body instanceof Uint8Array) {
    await writeFile(file, body, { signal });
    return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  }
  const counted = countedBody(body);
  await pipeline(counted.stream, createWriteStream(file), { signal });
  return counted.bytes();
}

/**
 * Runs one part of a job on this machine, as a fleet worker would (the same runner, params, task
 * and attempt number), so a failing part can be debugged with a debugger attached: its inputs are
 * downloaded first and read from the local copies, its outputs go to a folder, not to S3.
 */
export async function replayPart(o: ReplayOptions): Promise<ReplayResult> {
  const { part } = o;
  const inputsDir = path.join(o.outDir, 'inputs');
  const outputsDir = path.join(o.outDir, 'outputs');
  await mkdir(inputsDir, { recursive: true });
  await mkdir(outputsDir, { recursive: true });

  const controller = new AbortController();
  const local = new Map<InputRef, { file?: string; error?: unknown }>();
  for (const [i, ref] of part.inputs.entries()) {
    const file = path.join(inputsDir, inputName(ref, i));
    try {
      await pipeline(Readable.from(readObject(o.s3, part.bucket, ref, controller.signal, { bytesIn: 0, bytesOut: 0 })), createWriteStream(file));
      local.set(ref, { file });
    } catch (error) {
      local.set(ref, { error });
    }
  }

  const outputFiles: ReplayResult['outputFiles'] = [];
  const objects: PartObjects = {
    // A generator, so that an input that could not be downloaded fails on the stream, as it does from S3.
    async *read(ref) {
      const copy = local.get(ref);
      if (!copy?.file) throw copy?.error ?? new Error(`input ${ref.key} was not downloaded`);
      for await (const chunk of createReadStream(copy.file)) yield chunk as Buffer;
    },
    async write(key, body, signal) {
      const file = path.join(outputsDir, key.startsWith(part.outputPrefix) ? key.slice(part.outputPrefix.length) : key);
      const bytes = await writeBody(file, body, signal);
      const known = outputFiles.findIndex((f) => f.key === key);
      if (known >= 0) outputFiles.splice(known, 1);
      outputFiles.push({ key, file, bytes });
      return bytes;
    },
  };

  const now = Date.now();
  const outcome = await runPart({
    message: { v: 1, type: 'task', jobId: part.jobId, stageId: part.stageId, task: part.task, params: part.params, bucket: part.bucket, completionQueueUrl: 'local', timeoutMs: part.timeoutMs, sentAt: now, parts: [{ part: part.part, attempt: part.attempt, inputs: [...part.inputs], outputPrefix: part.outputPrefix }] },
    part: { part: part.part, attempt: part.attempt, inputs: [...part.inputs], outputPrefix: part.outputPrefix },
    receivedAt: now,
    receiveCount: 1,
    registry: o.registry,
    s3: o.s3,
    log: o.log,
    controller,
    objects,
  });
  // runPart only aborts on the controller, which nothing here aborts but its timeout (reported as a failure).
  if (outcome.kind !== 'result') throw outcome.reason;
  const reportFile = path.join(o.outDir, 'part.json');
  const inputFiles = part.inputs.map((ref) => local.get(ref)?.file);
  await writeFile(reportFile, `${JSON.stringify({ ...part, result: outcome.result, inputFiles, outputFiles }, null, 2)}\n`);
  return { result: outcome.result, inputFiles, outputFiles, reportFile };
}

const SCRATCH = new RegExp(`${EXEC_SCRATCH_PREFIX}[A-Za-z0-9]+`, 'g');

/**
 * Whether a replayed part failed as it did on the fleet: the same error type and message, once the
 * names of exec's scratch folders (new for every attempt, anywhere) are set aside.
 */
export function sameFailure(a: TaskErrorInfo | null | undefined, b: TaskErrorInfo | null | undefined): boolean {
  if (!a || !b) return false;
  const plain = (m: string) => m.replace(SCRATCH, `${EXEC_SCRATCH_PREFIX}…`);
  return a.type === b.type && plain(a.message) === plain(b.message);
}
