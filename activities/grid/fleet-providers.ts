import path from 'node:path';
import { config } from '../../common/config';
import type { AwsClients } from '../../common/aws';
import type { Logger } from '../../common/logger';
import { distPath } from '../../common/paths';
import { AsgProvider, LocalProvider, StaticProvider, type FleetProvider } from '../../grid/providers';
import type { FleetDef } from '../../grid/types';
import type { Queryable } from '../../store/db';
import { listWorkers } from '../../store/workers';

/**
 * The providers of this process. A local fleet's workers are children of the process that runs
 * the autoscaler's activities, so its provider must outlive one activity: it is kept here, one per
 * (queue prefix, fleet). Run the autoscalers of local fleets on a single orchestrator.
 */
const localFleets = new Map<string, LocalProvider>();
let exitHookInstalled = false;

export interface ProviderContext {
  aws: AwsClients;
  db: Queryable;
  queuePrefix: string;
  log: Logger;
}

const localKey = (queuePrefix: string, fleet: string) => `${queuePrefix}/${fleet}`;

/** The provider of a fleet definition; a local one is created once and kept (its settings follow the definition). */
export function providerFor(def: FleetDef, ctx: ProviderContext): FleetProvider {
  const p = def.provider;
  if (p.type === 'asg') return new AsgProvider({ autoScaling: ctx.aws.autoScaling, groupName: p.groupName, fleet: def.name, lifecycleHook: p.lifecycleHook });
  if (p.type === 'static') {
    const countLive = async () => (await listWorkers(ctx.db, { fleet: def.name, liveWithinMs: def.workerLostAfterMs })).length;
    return new StaticProvider({ fleet: def.name, size: p.size, countLive });
  }
  const key = localKey(ctx.queuePrefix, def.name);
  const settings = { concurrency: p.concurrency, tasks: p.tasks, shutdownGraceMs: def.shutdownGraceMs, spot: def.spot, min: def.min, max: def.max };
  let local = localFleets.get(key);
  if (local) {
    local.update(settings);
    return local;
  }
  const home = config().BATCHGRID_HOME;
  local = new LocalProvider({
    fleet: def.name,
    queuePrefix: ctx.queuePrefix,
    ...settings,
    cliPath: distPath('manager/cli/main.js'),
    logsDir: path.join(home, 'logs'),
    stateFile: path.join(home, 'run', `fleet-${ctx.queuePrefix || 'none'}-${def.name}.json`),
    log: ctx.log,
  });
  localFleets.set(key, local);
  installExitHook();
  return local;
}

/** Stops a local fleet's workers (gracefully) and forgets its provider; false when this process has none. */
export async function releaseLocalFleet(queuePrefix: string, fleet: string): Promise<boolean> {
  const key = localKey(queuePrefix, fleet);
  const local = localFleets.get(key);
  if (!local) return false;
  localFleets.delete(key);
  await local.close();
  return true;
}

/** Stops every local fleet of this process and waits for the workers to exit (orchestrator shutdown, tests). */
export async function shutdownLocalFleets(): Promise<void> {
  const all = [...localFleets.values()];
  localFleets.clear();
  await Promise.all(all.map((l) => l.close()));
}

/** If the process exits with local workers still running, they get SIGTERM (and drain) rather than run on unmanaged. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const l of localFleets.values()) l.signalAll('SIGTERM');
  });
}
