import type { QueryResultRow } from 'pg';
import type { Queryable } from './db';

/** A fleet's settings and what the autoscaler last observed of it (table `fleets`, migration 003). */
export interface FleetState {
  fleet: string;
  /** `local`, `asg` or `static`. */
  provider: string;
  desired: number;
  min: number;
  max: number;
  /** The fleet definition the autoscaler runs (a FleetDef), when an autoscaler recorded it. */
  definition: unknown;
  /** Instances up per the provider, at `observedAt`. */
  actual: number | null;
  /** Input queue messages visible / in flight, at `observedAt`. */
  visible: number | null;
  inFlight: number | null;
  observedAt: Date | null;
  updatedAt: Date;
}

export type FleetObservation = Omit<FleetState, 'observedAt' | 'updatedAt'>;

const COLUMNS = 'fleet, provider, desired, min, max, definition, actual, visible, in_flight, observed_at, updated_at';

function toState(r: QueryResultRow): FleetState {
  return {
    fleet: r.fleet,
    provider: r.provider,
    desired: r.desired,
    min: r.min,
    max: r.max,
    definition: r.definition,
    actual: r.actual,
    visible: r.visible,
    inFlight: r.in_flight,
    observedAt: r.observed_at,
    updatedAt: r.updated_at,
  };
}

/** Records one autoscaler observation (creates the fleet row on first sight). `updated_at` moves only when a setting changes. */
export async function saveFleetObservation(db: Queryable, o: FleetObservation): Promise<void> {
  await db.query(
    `INSERT INTO fleets AS f (fleet, provider, desired, min, max, definition, actual, visible, in_flight, observed_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, now(), now())
     ON CONFLICT (fleet) DO UPDATE SET provider = excluded.provider, desired = excluded.desired, min = excluded.min, max = excluded.max,
       definition = excluded.definition, actual = excluded.actual, visible = excluded.visible, in_flight = excluded.in_flight,
       observed_at = excluded.observed_at,
       updated_at = CASE WHEN (f.provider, f.desired, f.min, f.max) IS DISTINCT FROM (excluded.provider, excluded.desired, excluded.min, excluded.max)
                          OR f.definition IS DISTINCT FROM excluded.definition THEN now() ELSE f.updated_at END`,
    [o.fleet, o.provider, o.desired, o.min, o.max, JSON.stringify(o.definition ?? null), o.actual, o.visible, o.inFlight],
  );
}

/** Every fleet the store knows, by name. */
export async function listFleetStates(db: Queryable): Promise<FleetState[]> {
  const r = await db.query(`SELECT ${COLUMNS} FROM fleets ORDER BY fleet`);
  return r.rows.map(toState);
}

/** One fleet, or undefined. */
export async function getFleetState(db: Queryable, fleet: string): Promise<FleetState | undefined> {
  const r = await db.query(`SELECT ${COLUMNS} FROM fleets WHERE fleet = $1`, [fleet]);
  return r.rows.length === 0 ? undefined : toState(r.rows[0]);
}
