import { PipelineValidationError } from '../../common/errors';
import {
  dependentsOf,
  downstreamOf,
  finalStages,
  findCycles,
  formatCycle,
  readyStages,
  rootStages,
  topologicalOrder,
  type DagStage,
} from '../../pipeline/dag';

function dag(...stages: [id: string, needs: string[], chain?: 'barrier' | 'stream'][]): { stages: DagStage[] } {
  return { stages: stages.map(([id, needs, chain = 'barrier']) => ({ id, needs, chain })) };
}

const ids = (stages: readonly DagStage[]): string[] => stages.map((stage) => stage.id);

// d needs b and c, which both need a; e is independent; stages listed out of order on purpose.
const diamond = dag(['d', ['b', 'c']], ['c', ['a']], ['e', []], ['b', ['a']], ['a', []]);

describe('topologicalOrder', () => {
  test('puts every stage after its needs, ties in definition order', () => {
    expect(ids(topologicalOrder(diamond))).toEqual(['e', 'a', 'c', 'b', 'd']);
  });

  test('keeps definition order when it is already valid', () => {
    expect(ids(topologicalOrder(dag(['x', []], ['y', ['x']], ['z', []])))).toEqual(['x', 'y', 'z']);
  });

  test('throws PipelineValidationError naming the cycle', () => {
    const cyclic = dag(['a', ['c']], ['b', ['a']], ['c', ['b']]);
    expect(() => topologicalOrder(cyclic)).toThrow(PipelineValidationError);
    expect(() => topologicalOrder(cyclic)).toThrow('Invalid pipeline: stages: needs form a cycle: a -> b -> c -> a');
  });
});

describe('findCycles', () => {
  test('none in a DAG', () => {
    expect(findCycles(diamond)).toEqual([]);
  });

  test('one per strongly connected component, in data-flow order from the first-defined stage', () => {
    const graph = dag(['p', []], ['q', ['s']], ['r', ['q']], ['s', ['r', 'p']], ['x', ['y']], ['y', ['x']]);
    expect(findCycles(graph)).toEqual([
      ['q', 'r', 's'],
      ['x', 'y'],
    ]);
    expect(formatCycle(['q', 'r', 's'])).toBe('q -> r -> s -> q');
  });

  test('picks the shortest way round inside a component', () => {
    // a -> b -> a and a -> c -> d -> a share a component.
    const graph = dag(['a', ['b', 'd']], ['b', ['a']], ['c', ['a']], ['d', ['c']]);
    expect(findCycles(graph)).toEqual([['a', 'b']]);
  });
});

describe('readyStages', () => {
  const pipeline = dag(['validate', []], ['price', ['validate'], 'stream'], ['audit', ['validate']], ['report', ['price', 'audit']]);
  const ready = (done: string[], running: string[]) => ids(readyStages(pipeline, new Set(done), new Set(running)));

  test('roots are ready at once', () => {
    expect(ready([], [])).toEqual(['validate']);
  });

  test('a stream stage may start once its upstream has started; a barrier stage may not', () => {
    expect(ready([], ['validate'])).toEqual(['price']);
  });

  test('a barrier stage starts when every need has succeeded', () => {
    expect(ready(['validate'], ['price'])).toEqual(['audit']);
    expect(ready(['validate', 'price'], ['audit'])).toEqual([]);
    expect(ready(['validate', 'price', 'audit'], [])).toEqual(['report']);
  });

  test('a stream stage whose upstream is already done is ready too', () => {
    expect(ready(['validate'], [])).toEqual(['price', 'audit']);
  });

  test('never returns running or done stages', () => {
    expect(ready(['validate', 'price', 'audit', 'report'], [])).toEqual([]);
    expect(ready(['validate'], ['price', 'audit'])).toEqual([]);
  });

  test('a gather stage waits for all its needs like a barrier', () => {
    const gather = { stages: [{ id: 'a', needs: [], chain: 'barrier' as const }, { id: 'g', needs: ['a'], chain: 'barrier' as const, gather: true }] };
    expect(ids(readyStages(gather, new Set(), new Set(['a'])))).toEqual([]);
    expect(ids(readyStages(gather, new Set(['a']), new Set()))).toEqual(['g']);
  });

  test('returns the stage objects themselves', () => {
    const [first] = readyStages(pipeline, new Set(), new Set());
    expect(first).toBe(pipeline.stages[0]);
  });
});

describe('neighbours', () => {
  test('dependentsOf lists direct dependents in topological order', () => {
    expect(ids(dependentsOf(diamond, 'a'))).toEqual(['c', 'b']);
    expect(ids(dependentsOf(diamond, 'd'))).toEqual([]);
  });

  test('downstreamOf lists every transitive dependent, not the stage itself', () => {
    expect(ids(downstreamOf(diamond, 'a'))).toEqual(['c', 'b', 'd']);
    expect(ids(downstreamOf(diamond, 'b'))).toEqual(['d']);
    expect(ids(downstreamOf(diamond, 'e'))).toEqual([]);
  });

  test('rootStages and finalStages, in definition order', () => {
    expect(ids(rootStages(diamond))).toEqual(['e', 'a']);
    expect(ids(finalStages(diamond))).toEqual(['d', 'e']);
  });
});
