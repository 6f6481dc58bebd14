import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL_PART_STATUSES, isJobStatus, isTerminal, JOB_STATUSES, OPEN_PART_STATUSES, PART_COUNTS, PART_STATUSES, STAGE_MODES, STAGE_STATUSES, TERMINAL_STATUSES } from '../../common/status';

/** The words each `CHECK (column IN (...))` of the migrations allows, by `table.column`; a later migration's CHECK replaces an earlier one. */
function checkConstraints(): Map<string, string[]> {
  const dir = join(__dirname, '..', '..', 'store', 'migrations');
  const out = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    let table = '';
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      table = /\bTABLE\s+(\w+)/i.exec(line)?.[1] ?? table;
      const check = /CHECK \((\w+) IN \(([^)]*)\)\)/i.exec(line);
      if (check) out.set(`${table}.${check[1]}`, [...check[2]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!));
    }
  }
  return out;
}

describe('status vocabularies (common/status.ts)', () => {
  const checks = checkConstraints();

  test.each([
    ['jobs.status', JOB_STATUSES],
    ['stage_runs.status', STAGE_STATUSES],
    ['stage_runs.mode', STAGE_MODES],
    ['task_rows.status', PART_STATUSES],
  ])('%s allows exactly the declared words', (column, words) => {
    expect(checks.get(column)).toEqual([...words]);
  });

  test('terminal statuses are job and stage statuses alike', () => {
    for (const s of TERMINAL_STATUSES) expect([JOB_STATUSES.includes(s), STAGE_STATUSES.includes(s)]).toEqual([true, true]);
    expect(JOB_STATUSES.filter(isTerminal)).toEqual([...TERMINAL_STATUSES]);
    expect(STAGE_STATUSES.filter(isTerminal)).toEqual([...TERMINAL_STATUSES]);
  });

  test('a part is either open or final, and is counted under one name per status', () => {
    expect([...OPEN_PART_STATUSES, ...FINAL_PART_STATUSES].sort()).toEqual([...PART_STATUSES].sort());
    expect(Object.keys(PART_COUNTS)).toEqual([...PART_STATUSES]);
    expect(new Set(Object.values(PART_COUNTS)).size).toBe(PART_STATUSES.length);
    expect(PART_COUNTS.queued).toBe('inFlight');
  });

  test('isJobStatus accepts the declared words only', () => {
    expect(JOB_STATUSES.every(isJobStatus)).toBe(true);
    expect(['pending', 'queued', 'Running', ''].some(isJobStatus)).toBe(false);
  });
});
