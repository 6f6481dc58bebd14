import type { Queryable } from '../../store/db';
import { fleetPrices, fleetUsage } from '../../store/cost';
import { fleetCost, type FleetCost } from './cost';

/**
 * What a fleet cost over [since, until], from Postgres: all its workers' up time in the period,
 * busy or idle, at its price. A fleet the store never saw answers zeros and no price. `until` must
 * be after `since` (BatchGridClient.fleetCost checks it).
 */
export async function fleetCostReport(db: Queryable, fleet: string, since: Date, until: Date): Promise<FleetCost> {
  const [usage, prices] = await Promise.all([fleetUsage(db, fleet, since, until), fleetPrices(db, [fleet])]);
  return fleetCost(fleet, since, until, usage, prices.get(fleet) ?? null);
}
