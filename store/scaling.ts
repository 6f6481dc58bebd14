import type { QueryResultRow } from 'pg';
import type { Queryable } from './db';

/** One autoscaler tick: what it saw and what it asked for. */
export interface ScalingDecision {
  id: number;
  fleet: string;
  at: Date;
  /** Messages visible (waiting) in the fleet's input queue. */
  visible: number;
  /** Messages in flight (received, not deleted). */
  inFlight: number;
  /** Workers up when deciding. */
  workers: number;
  desired: number;
  /** Desired capacity before this decision. */
  previous: number;
  reason: string;
}

export type NewScalingDecision = Omit<ScalingDecision, 'id' | 'at'> & { at?: Date };

export interface Fleet {
  fleet: string;
  /** `local` or `asg`. */
  provider: string;
  desired: number;
  min: number;
  max: number;
  updatedAt: Date;
}

export type FleetInput = Omit<Fleet, 'updatedAt'>;

function toDecision(r: QueryResultRow): ScalingDecision {
  return {
    id: Number(r.id),
    fleet: r.fleet,
    at: r.at,
    visible: r.visible,
    inFlight: r.in_flight,
    workers: r.workers,
    desired: r.desired,
    previous: r.previous,
    reason: r.reason,
  };
}

function toFleet(r: QueryResultRow): Fleet {
  return { fleet: r.fleet, provider: r.provider, desired: r.desired, min: r.min, max: r.max, updatedAt: r.updated_at };
}

const DECISION_COLUMNS = 'id, fleet, at, visible, in_flight, workers, desired, previous, reason';

/** Records an autoscaler decision; returns it with its id and time. */
export async function recordDecision(db: Queryable, d: NewScalingDecision): Promise<ScalingDecision> {
  const r = await db.query(
    `INSERT INTO scaling_decisions (fleet, at, visible, in_flight, workers, desired, previous, reason)
     VALUES ($1, coalesce($2, now()), $3, $4, $5, $6, $7, $8) RETURNING ${DECISION_COLUMNS}`,
    [d.fleet, d.at ?? null, d.visible, d.inFlight, d.workers, d.desired, d.previous, d.reason],
  );
  return toDecision(r.rows[0]);
}

/** The fleet's latest decisions, newest first. */
export async function listDecisions(db: Queryable, fleet: string, limit = 50): Promise<ScalingDecision[]> {
  const r = await db.query(
    `SELECT ${DECISION_COLUMNS} FROM scaling_decisions WHERE fleet = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [fleet, limit],
  );
  return r.rows.map(toDecision);
}

/** Creates or replaces a fleet's capacity settings. */
export async function upsertFleet(db: Queryable, f: FleetInput): Promise<Fleet> {
  const r = await db.query(
    `INSERT INTO fleets (fleet, provider, desired, min, max, updated_at) VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (fleet) DO UPDATE SET provider = excluded.provider, desired = excluded.desired,
       min = excluded.min, max = excluded.max, updated_at = excluded.updated_at
     RETURNING fleet, provider, desired, min, max, updated_at`,
    [f.fleet, f.provider, f.desired, f.min, f.max],
  );
  return toFleet(r.rows[0]);
}

/** The fleet's settings, or undefined when it was never recorded. */
export async function getFleet(db: Queryable, fleet: string): Promise<Fleet | undefined> {
  const r = await db.query('SELECT fleet, provider, desired, min, max, updated_at FROM fleets WHERE fleet = $1', [fleet]);
  return r.rows.length === 0 ? undefined : toFleet(r.rows[0]);
}
