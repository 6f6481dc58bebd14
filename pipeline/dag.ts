import { PipelineValidationError } from '../common/errors';
import type { PipelineDef, StageDef } from './types';

/**
 * The stage graph: order, cycles, and which stages may start. Edges run from a stage to the
 * stages that `need` it (the direction data flows). Every result lists stages in a stable order
 * (topological, ties broken by definition order) so workflows stay deterministic.
 * Pure and dependency-free: safe to import from workflows.
 */

/** The part of a stage the graph needs; a `StageDef` is one. */
export type DagStage = Pick<StageDef, 'id' | 'needs'> & Partial<Pick<StageDef, 'chain'>>;

/** Anything with stages, e.g. a `PipelineDef`. */
export interface Dag<S extends DagStage> {
  stages: readonly S[];
}

/** Each stage's downstream ids (the stages that need it), ignoring needs that name no stage. */
function edges<S extends DagStage>(stages: readonly S[]): Map<string, string[]> {
  const out = new Map<string, string[]>(stages.map((stage) => [stage.id, []]));
  for (const stage of stages) {
    for (const need of new Set(stage.needs)) out.get(need)?.push(stage.id);
  }
  return out;
}

/**
 * The cycles of the graph, one per strongly connected component, each as the ids along it in
 * data-flow order starting from its first-defined stage: `['a', 'b', 'c']` is a → b → c → a
 * (b needs a, c needs b, a needs c). Self-needs are not reported here.
 */
export function findCycles<S extends DagStage>(def: Dag<S>): string[][] {
  const order = new Map(def.stages.map((stage, i) => [stage.id, i]));
  const next = edges(def.stages);
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const to of next.get(id) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(id, Math.min(low.get(id)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(id, Math.min(low.get(id)!, index.get(to)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      if (component.length > 1) components.push(component);
    }
  };
  for (const stage of def.stages) if (!index.has(stage.id)) visit(stage.id);

  const cycles = components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort((a, b) => order.get(a)! - order.get(b)!)[0]!;
    // Shortest way round from `start` back to itself, inside the component.
    const cameFrom = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      const successors = (next.get(id) ?? []).filter((to) => members.has(to)).sort((a, b) => order.get(a)! - order.get(b)!);
      if (successors.includes(start)) {
        const path = [id];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return path;
      }
      for (const to of successors) {
        if (!cameFrom.has(to) && to !== start) {
          cameFrom.set(to, id);
          queue.push(to);
        }
      }
    }
    return [start];
  });
  return cycles.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/** `['a', 'b', 'c']` → `a -> b -> c -> a`. */
export function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' -> ');
}

/** Stages in an order where every stage comes after all it needs; ties keep definition order. Throws on a cycle. */
export function topologicalOrder<S extends DagStage>(def: Dag<S>): S[] {
  const ids = new Set(def.stages.map((stage) => stage.id));
  const done = new Set<string>();
  const ordered: S[] = [];
  while (ordered.length < def.stages.length) {
    const next = def.stages.find(
      (stage) => !done.has(stage.id) && stage.needs.every((need) => done.has(need) || !ids.has(need) || need === stage.id),
    );
    if (next === undefined) {
      const cycle = findCycles(def)[0] ?? [];
      throw new PipelineValidationError([{ path: 'stages', message: `needs form a cycle: ${formatCycle(cycle)}` }]);
    }
    done.add(next.id);
    ordered.push(next);
  }
  return ordered;
}

/**
 * Stages that may start now, in topological order: not done or running, and
 * - barrier (and gather) stages: every stage they need is done (succeeded);
 * - `chain: stream` stages: their upstream has started (running) or is done, since they consume
 *   its parts as they succeed.
 * Root stages (no needs) are ready at once.
 */
export function readyStages<S extends DagStage>(def: Dag<S>, done: ReadonlySet<string>, running: ReadonlySet<string>): S[] {
  return topologicalOrder(def).filter((stage) => {
    if (done.has(stage.id) || running.has(stage.id)) return false;
    if (stage.chain === 'stream') return stage.needs.every((need) => done.has(need) || running.has(need));
    return stage.needs.every((need) => done.has(need));
  });
}

/** Stages that need `id` directly, in topological order. */
export function dependentsOf<S extends DagStage>(def: Dag<S>, id: string): S[] {
  return topologicalOrder(def).filter((stage) => stage.needs.includes(id));
}

/** Every stage that depends on `id`, directly or through others, in topological order (not `id` itself). */
export function downstreamOf<S extends DagStage>(def: Dag<S>, id: string): S[] {
  const reached = new Set([id]);
  const out: S[] = [];
  for (const stage of topologicalOrder(def)) {
    if (stage.id !== id && stage.needs.some((need) => reached.has(need))) {
      reached.add(stage.id);
      out.push(stage);
    }
  }
  return out;
}

/** Stages without needs: they read the job input. Definition order. */
export function rootStages<S extends DagStage>(def: Dag<S>): S[] {
  return def.stages.filter((stage) => stage.needs.length === 0);
}

/** Stages no other stage needs: their outputs are the job's results. Definition order. */
export function finalStages<S extends DagStage>(def: Dag<S>): S[] {
  const needed = new Set(def.stages.flatMap((stage) => stage.needs));
  return def.stages.filter((stage) => !needed.has(stage.id));
}

/** The fleet that runs a stage's parts: its own, or the pipeline's (definitions compiled before stages named fleets). */
export const fleetOf = (pipeline: Pick<PipelineDef, 'fleet'>, stage: Pick<StageDef, 'fleet'>): string => stage.fleet ?? pipeline.fleet;

/** Every fleet a pipeline's stages run on, the pipeline's own first. */
export const fleetsOf = (pipeline: PipelineDef): string[] => [...new Set([pipeline.fleet, ...pipeline.stages.map((s) => fleetOf(pipeline, s))])];
