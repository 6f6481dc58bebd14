import { findCycles, formatCycle } from './dag';
import { didYouMean, type PathSegments, type RawProblem } from './problems';
import { formatDuration, parseDuration } from './units';

/**
 * The rules that span fields or stages: unique ids, needs that resolve, no cycles, and which
 * combinations of needs / chain / gather / split make sense. They read the raw definition
 * leniently (whatever has the right type), so they run even when the shape check found
 * problems elsewhere and every problem is reported at once. Shape problems are not repeated.
 */

type RawObject = Record<string, unknown>;

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Need {
  id: string;
  path: PathSegments;
}

interface RawStage {
  index: number;
  raw: RawObject;
  id?: string;
  needs: Need[];
}

function readNeeds(raw: RawObject, index: number): Need[] {
  const needs = raw.needs;
  if (typeof needs === 'string') return [{ id: needs, path: ['stages', index, 'needs'] }];
  if (!Array.isArray(needs)) return [];
  return needs.flatMap((need, j) => (typeof need === 'string' ? [{ id: need, path: ['stages', index, 'needs', j] }] : []));
}

function tryDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

/** Problems with the relations between stages and fields of a raw definition. */
export function ruleProblems(raw: unknown): RawProblem[] {
  if (!isObject(raw) || !Array.isArray(raw.stages)) return [];
  const stages: RawStage[] = raw.stages.flatMap((stage, index) =>
    isObject(stage) ? [{ index, raw: stage, id: typeof stage.id === 'string' ? stage.id : undefined, needs: readNeeds(stage, index) }] : [],
  );
  const problems: RawProblem[] = [];
  const at = (stage: RawStage, ...rest: (string | number)[]): PathSegments => ['stages', stage.index, ...rest];

  const firstIndex = new Map<string, number>();
  for (const stage of stages) {
    if (stage.id === undefined) continue;
    const first = firstIndex.get(stage.id);
    if (first === undefined) firstIndex.set(stage.id, stage.index);
    else problems.push({ path: at(stage, 'id'), message: `duplicate stage id "${stage.id}" (first used by stages[${first}])` });
  }

  for (const stage of stages) {
    const seen = new Set<string>();
    for (const need of stage.needs) {
      if (need.id === stage.id) problems.push({ path: need.path, message: `stage "${stage.id}" cannot need itself` });
      else if (!firstIndex.has(need.id)) problems.push({ path: need.path, message: `unknown stage "${need.id}"${didYouMean(need.id, firstIndex.keys())}` });
      else if (seen.has(need.id)) problems.push({ path: need.path, message: `"${need.id}" is listed twice` });
      seen.add(need.id);
    }

    const upstreams = stage.needs.length;
    const { gather, chain, split, retry } = stage.raw;
    if (gather === true && upstreams === 0) {
      problems.push({ path: at(stage, 'gather'), message: 'gather needs at least one upstream stage in `needs` (a gather stage reads upstream outputs)' });
    }
    if (chain === 'stream') {
      if (gather === true) {
        problems.push({ path: at(stage, 'chain'), message: 'chain: stream cannot be combined with gather: true (a gather stage waits for all upstream parts)' });
      } else if (upstreams !== 1) {
        problems.push({ path: at(stage, 'chain'), message: `chain: stream needs exactly one upstream stage in \`needs\` (has ${upstreams})` });
      }
    }
    if (split !== undefined && upstreams > 0) {
      problems.push({ path: at(stage, 'split'), message: 'split is only allowed on stages without needs (a stage with needs reads its upstream outputs)' });
    }
    if (isObject(retry)) {
      const backoff = tryDuration(retry.backoff);
      const maxBackoff = tryDuration(retry.maxBackoff);
      if (backoff !== undefined && maxBackoff !== undefined && maxBackoff < backoff) {
        problems.push({
          path: at(stage, 'retry', 'maxBackoff'),
          message: `must be at least backoff (${formatDuration(backoff)}), got ${formatDuration(maxBackoff)}`,
        });
      }
    }
  }

  // Cycles over the stages that resolved: first stage per id, needs that name another existing stage.
  const graph = stages
    .filter((stage) => stage.id !== undefined && firstIndex.get(stage.id) === stage.index)
    .map((stage) => ({ stage, id: stage.id!, needs: stage.needs.filter((need) => need.id !== stage.id && firstIndex.has(need.id)) }));
  const byId = new Map(graph.map((node) => [node.id, node]));
  for (const cycle of findCycles({ stages: graph.map((node) => ({ id: node.id, needs: node.needs.map((need) => need.id) })) })) {
    // Report on the first stage's need that closes the cycle: cycle[0] needs the last stage.
    const start = byId.get(cycle[0]!)!;
    const closing = start.needs.find((need) => need.id === cycle[cycle.length - 1])!;
    problems.push({ path: closing.path, message: `needs form a cycle: ${formatCycle(cycle)}` });
  }
  return problems;
}
