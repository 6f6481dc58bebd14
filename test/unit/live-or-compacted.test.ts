import type { Queryable } from '../../store/db';
import { liveOrCompacted } from '../../store/aggregates';

/** A store whose job_aggregates row appears when `compact()` is called (a compaction committing). */
function fakeStore() {
  let compacted = false;
  const row = { part_stages: '7', progress: [], part_stats: [{ stageId: null, parts: 7 }], worker_stats: [], slowest: [], stage_busy: [] };
  const db = { query: async () => ({ rows: compacted ? [row] : [] }) } as unknown as Queryable;
  return { db, compact: () => void (compacted = true) };
}

describe('liveOrCompacted', () => {
  test('a job not compacted answers from its live rows', async () => {
    const { db } = fakeStore();
    expect(await liveOrCompacted(db, 'j', async () => -1, (a) => a.partStages)).toBe(-1);
  });

  test('a compacted job answers from its aggregates', async () => {
    const { db, compact } = fakeStore();
    compact();
    expect(await liveOrCompacted(db, 'j', async () => -1, (a) => a.partStages)).toBe(7);
  });

  test('a compaction that commits during the live read is seen: the aggregates are returned, not the rows half gone', async () => {
    const { db, compact } = fakeStore();
    const live = async () => {
      compact();
      return -1;
    };
    expect(await liveOrCompacted(db, 'j', live, (a) => a.partStats[0]!.parts)).toBe(7);
  });
});
