import type { OutputRef } from '../common/messages';
import { json, type Queryable } from './db';

/** A cached part: what a hit reuses. */
export interface CacheEntry {
  key: string;
  outputs: OutputRef[];
  result: unknown;
  runMs: number;
}

/** The entries of these keys (missing keys are misses). */
export async function getCacheEntries(db: Queryable, keys: string[]): Promise<Map<string, CacheEntry>> {
  if (keys.length === 0) return new Map();
  const r = await db.query(`SELECT key, outputs, result, run_ms FROM part_cache WHERE key = ANY($1::text[])`, [keys]);
  return new Map(r.rows.map((x) => [x.key, { key: x.key, outputs: x.outputs, result: x.result, runMs: x.run_ms }]));
}

export interface NewCacheEntry extends CacheEntry {
  pipelineName: string;
  task: string;
  version: string;
  jobId: string;
  stageId: string;
  part: number;
}

/** Records parts that ran; the first entry of a key stays (its outputs are the ones other jobs reuse). */
export async function putCacheEntries(db: Queryable, entries: NewCacheEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({ key: e.key, pipeline_name: e.pipelineName, task: e.task, version: e.version, job_id: e.jobId, stage_id: e.stageId, part: e.part, outputs: e.outputs, result: e.result ?? null, run_ms: Math.round(e.runMs) }));
  await db.query(
    `INSERT INTO part_cache (key, pipeline_name, task, version, job_id, stage_id, part, outputs, result, run_ms)
     SELECT r.key, r.pipeline_name, r.task, r.version, r.job_id, r.stage_id, r.part, r.outputs, r.result, r.run_ms
       FROM jsonb_to_recordset($1::jsonb) AS r(key text, pipeline_name text, task text, version text, job_id text, stage_id text, part int, outputs jsonb, result jsonb, run_ms int)
     ON CONFLICT (key) DO NOTHING`,
    [json(rows)],
  );
}

/** Drops entries (a hit whose outputs are gone). */
export async function deleteCacheEntries(db: Queryable, keys: string[]): Promise<void> {
  if (keys.length > 0) await db.query(`DELETE FROM part_cache WHERE key = ANY($1::text[])`, [keys]);
}

/** `batchgrid cache clear --pipeline P`: drops the pipeline's entries; returns how many. */
export async function clearCache(db: Queryable, pipelineName: string): Promise<number> {
  return (await db.query(`DELETE FROM part_cache WHERE pipeline_name = $1`, [pipelineName])).rowCount ?? 0;
}

/** Drops the entries whose outputs belong to these jobs (pruned: an entry never outlives its outputs). */
export async function deleteCacheOfJobs(db: Queryable, jobIds: string[]): Promise<number> {
  if (jobIds.length === 0) return 0;
  return (await db.query(`DELETE FROM part_cache WHERE job_id = ANY($1::text[])`, [jobIds])).rowCount ?? 0;
}

/** What the cache did for a stage run: parts reused (hits), parts that ran (misses), and the run time the hits saved. */
export interface CacheCounts {
  hits: number;
  misses: number;
  savedMs: number;
}

/** The cache counts of a stage run with `cache: true`, from its parts. */
export async function stageCacheCounts(db: Queryable, jobId: string, stageId: string): Promise<CacheCounts> {
  const r = await db.query(
    `SELECT count(*) FILTER (WHERE cached_ms IS NOT NULL)::int AS hits,
            count(*) FILTER (WHERE cached_ms IS NULL AND status IN ('succeeded', 'failed'))::int AS misses,
            coalesce(sum(cached_ms), 0)::float8 AS saved_ms
       FROM task_runs WHERE job_id = $1 AND stage_id = $2`,
    [jobId, stageId],
  );
  const x = r.rows[0];
  return { hits: x.hits, misses: x.misses, savedMs: x.saved_ms };
}
