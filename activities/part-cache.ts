import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pool } from 'pg';
import { mapLimited } from '../common/concurrency';
import { taskVersionKeyOf } from '../common/layout';
import type { Logger } from '../common/logger';
import type { InputRef, OutputRef, PartResult } from '../common/messages';
import { MissingObjectError, objectHead, readJsonLines } from '../common/s3-io';
import type { StageDef } from '../pipeline/types';
import { deleteCacheEntries, getCacheEntries, putCacheEntries } from '../store/part-cache';

/**
 * The content-addressed part cache (`cache: true` on a stage; docs/engine.md, "Part cache").
 * A part's key is a hash of its task, the handler's version, the stage's params and the identity
 * of its inputs: each input's file name, S3 ETag, size and byte range. An upstream part's output
 * is an input like any other, so a part downstream of a reused (or re-run, same bytes) part hits
 * too, and a gather part's key covers every upstream output. A hit reuses the recorded outputs
 * and result without sending the part; a miss runs it and records it under the version its
 * worker reports.
 */

/** A part about to be sent: what its key is made of. */
export interface CacheablePart {
  part: number;
  attempt: number;
  inputs: InputRef[];
  inputsKey?: string;
}

export interface PartCache {
  /** The hits among `parts` (first attempts), as results to apply; the rest are to be sent. */
  lookup(parts: CacheablePart[], now: number): Promise<PartResult[]>;
  /** Records parts that ran and succeeded (their inputs as they were sent). */
  record(ran: { result: PartResult; inputs: InputRef[]; inputsKey?: string }[]): Promise<void>;
}

/** S3 calls at once while identifying inputs and checking outputs. */
const PARALLEL_HEADS = 16;
/** How long the handler version read from S3 is trusted before it is read again, in ms. */
const VERSION_TTL_MS = 30_000;

interface InputIdentity {
  name: string;
  etag: string;
  size: number;
  start?: number;
  end?: number;
}

/** The key of a part: sha256 over its task, handler version, params and inputs' identities. Pure. */
export function partCacheKey(o: { task: string; version: string; params: unknown; inputs: InputIdentity[] }): string {
  return createHash('sha256').update(JSON.stringify([o.task, o.version, o.params ?? null, o.inputs])).digest('hex');
}

export function createPartCache(o: { db: Pool; s3: S3Client; bucket: string; queuePrefix: string; fleet: string; jobId: string; pipelineName: string; stage: StageDef; log: Logger }): PartCache {
  const heads = new Map<string, Promise<{ etag: string; size: number } | undefined>>();
  const head = (key: string) => {
    let p = heads.get(key);
    if (!p) {
      p = objectHead(o.s3, o.bucket, key).catch((err: unknown) => {
        heads.delete(key);
        if (err instanceof MissingObjectError) return undefined;
        throw err;
      });
      heads.set(key, p);
    }
    return p;
  };
  let version: { value: string | undefined; at: number } | undefined;
  const currentVersion = async (now: number) => {
    if (version && now - version.at < VERSION_TTL_MS) return version.value;
    let value: string | undefined;
    try {
      for await (const v of readJsonLines<{ version: string }>(o.s3, o.bucket, taskVersionKeyOf(o.queuePrefix, o.fleet, o.stage.task))) value = v.version;
    } catch {
      value = undefined;
    }
    if (value === undefined && version?.value === undefined) o.log.info({ task: o.stage.task, fleet: o.fleet }, 'no worker of the fleet has announced its handler version yet: cached parts run this time');
    version = { value, at: now };
    return value;
  };
  /** The identity of a part's inputs, or undefined when one is missing (such a part just runs). */
  const identity = async (p: { inputs: InputRef[]; inputsKey?: string }): Promise<InputIdentity[] | undefined> => {
    const refs = [...p.inputs];
    if (p.inputsKey) for await (const r of readJsonLines<InputRef>(o.s3, o.bucket, p.inputsKey)) refs.push(r);
    const ids = await mapLimited(refs, PARALLEL_HEADS, async (r) => {
      const h = await head(r.key);
      return h && { name: r.key.slice(r.key.lastIndexOf('/') + 1), etag: h.etag, size: h.size, ...(r.start === undefined ? {} : { start: r.start }), ...(r.end === undefined ? {} : { end: r.end }) };
    });
    return ids.every((x) => x !== undefined) ? (ids as InputIdentity[]) : undefined;
  };
  const keyOf = (v: string, inputs: InputIdentity[]) => partCacheKey({ task: o.stage.task, version: v, params: o.stage.params, inputs });
  /** Identities of the parts looked up, for recording them when they have run. */
  const identities = new Map<number, InputIdentity[]>();
  const outputsExist = async (outputs: OutputRef[]) => (await mapLimited(outputs, PARALLEL_HEADS, (x) => head(x.key))).every((h) => h !== undefined);

  return {
    async lookup(parts, now) {
      const v = await currentVersion(now);
      const ided = await mapLimited(parts, PARALLEL_HEADS, async (p) => ({ p, id: await identity(p) }));
      for (const { p, id } of ided) if (id) identities.set(p.part, id);
      if (v === undefined) return [];
      const keyed = ided.filter((x) => x.id !== undefined).map((x) => ({ p: x.p, key: keyOf(v, x.id!) }));
      const entries = await getCacheEntries(o.db, keyed.map((k) => k.key));
      const hits: PartResult[] = [];
      const stale: string[] = [];
      for (const { p, key } of keyed) {
        const e = entries.get(key);
        if (!e) continue;
        // An entry never outlives its outputs: one whose objects are gone is dropped, and the part runs.
        if (!(await outputsExist(e.outputs))) {
          stale.push(key);
          continue;
        }
        hits.push({ part: p.part, attempt: p.attempt, status: 'succeeded', outputs: e.outputs, result: e.result ?? undefined, sentAt: now, receivedAt: now, startedAt: now, finishedAt: now, bytesIn: 0, bytesOut: 0, taskVersion: v, cachedRunMs: e.runMs });
      }
      if (stale.length > 0) {
        o.log.warn({ entries: stale.length }, 'cached parts whose outputs are gone: dropped, the parts run');
        await deleteCacheEntries(o.db, stale);
      }
      return hits;
    },
    async record(ran) {
      const entries = [];
      for (const { result, inputs, inputsKey } of ran) {
        if (result.taskVersion === undefined || result.status !== 'succeeded') continue;
        const id = identities.get(result.part) ?? (await identity({ inputs, inputsKey }));
        identities.delete(result.part);
        if (!id) continue;
        entries.push({
          key: keyOf(result.taskVersion, id), pipelineName: o.pipelineName, task: o.stage.task, version: result.taskVersion,
          jobId: o.jobId, stageId: o.stage.id, part: result.part, outputs: result.outputs, result: result.result, runMs: Math.max(0, result.finishedAt - result.startedAt),
        });
      }
      await putCacheEntries(o.db, entries);
    },
  };
}
