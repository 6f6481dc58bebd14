import type { Problem } from './types';

/** A path into the raw definition as keys and indexes, e.g. `['stages', 1, 'needs', 0]`. */
export type PathSegments = readonly (string | number)[];

/** A problem before its path is printed and its line looked up. */
export interface RawProblem {
  path: PathSegments;
  message: string;
  line?: number;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['stages', 1, 'needs', 0]` → `stages[1].needs[0]`; odd keys are quoted (`params["a.b"]`); the root is ``. */
export function formatPath(path: PathSegments): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** One problem as a compiler prints it: `FILE:LINE: path: message`, leaving out what is unknown or empty. */
export function formatProblem(problem: Problem, file?: string): string {
  const where = [file, problem.line].filter((part) => part !== undefined && part !== '').join(':');
  const head = [where, problem.path].filter((part) => part !== '').join(': ');
  return head === '' ? problem.message : `${head}: ${problem.message}`;
}

/** Edit distance counting a swap of neighbours as one edit (`fecth` → `fetch`), for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** ` (did you mean "x"?)` when one candidate is close to `word`, else ``. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= bestDistance && candidate !== word) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
