import { stageFleetSql, type Queryable } from './db';

/** The remaining work of a fleet's running stages, in parts. */
export interface FleetBacklog {
  /** Not sent yet: behind their jobs' windows (planned and not dispatched, or ready stream parts), or waiting for a retry. */
  unsent: number;
  /** Sent and not finished: queued in the fleet's input queue or running on a worker. */
  sent: number;
  /** Of those (unsent + sent), the parts of stages whose mean run time is known, and their expected work (parts × it, in ms). */
  timed: { parts: number; workMs: number };
}

/**
 * The whole backlog of a fleet, from the store: every running stage whose stage (or, when it
 * names none, its pipeline) runs on `fleet`. A planned stage's unsent parts are its total less
 * the parts it recorded; a stream stage's are those it has ready but no window slot for. Where a
 * stage has published the mean run time of its parts (stage_runs.mean_run_ms), its parts also
 * count as expected work.
 */
export async function fleetBacklog(db: Queryable, fleet: string): Promise<FleetBacklog> {
  const r = await db.query(
    `WITH stages AS (
       SELECT s.run_id, s.parts_total, s.waiting, s.mean_run_ms
         FROM stage_runs s
         JOIN jobs j ON j.job_id = s.job_id
         CROSS JOIN LATERAL (SELECT d FROM jsonb_array_elements(j.definition->'stages') d WHERE d->>'id' = s.stage_id) st
        WHERE s.status = 'running' AND ${stageFleetSql('j', 'st.d')} = $1)
     SELECT coalesce(sum(r.unsent), 0)::int AS unsent, coalesce(sum(r.sent), 0)::int AS sent,
            coalesce(sum(r.unsent + r.sent) FILTER (WHERE r.mean_run_ms IS NOT NULL), 0)::int AS timed_parts,
            coalesce(sum((r.unsent + r.sent) * r.mean_run_ms), 0)::float8 AS timed_work_ms
       FROM stages st
       CROSS JOIN LATERAL (
         SELECT count(*) AS recorded, count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'retry_wait') AS retry_wait
           FROM task_rows WHERE run_id = st.run_id) t
       CROSS JOIN LATERAL (
         SELECT greatest(coalesce(st.parts_total - t.recorded, st.waiting), 0) + t.retry_wait AS unsent, t.queued AS sent, st.mean_run_ms) r`,
    [fleet],
  );
  const x = r.rows[0];
  return { unsent: x.unsent, sent: x.sent, timed: { parts: x.timed_parts, workMs: x.timed_work_ms } };
}
