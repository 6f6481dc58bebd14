/**
 * The job every fault row runs, and the audit that says exactly what it produced.
 *
 * 300 distinct lines in 30 parts of 10 lines, through two stages:
 *   upper  `exec` of the template `slow-upper` (support/exec-policy.yaml: `sh -c 'sleep 0.5; exec tr a-z A-Z'`) on each part (well over half a second a part,
 *          so a fault lands mid-stage), its output `out.txt` the part upper-cased;
 *   count  `lines.count`, `chain: stream`: one part per upper part, in the order they succeeded.
 * Every source part must reach results.jsonl exactly once, through one count part that read the
 * upper part's output, with the right line count, and every output must hold exactly what the
 * input implies.
 */
import { resultsKeyOf } from '../../../common/layout';
import type { JobStatus } from '../../../common/status';
import type { TestEngine } from '../../support/engine';

export const PARTS = 30;
export const LINES_PER_PART = 10;
export const FLEET = 'chaos';
export const UPPER = 'upper';
export const COUNT = 'count';

/** Line i of the input: distinct, lower case, so upper-casing shows in every byte that matters. */
const lineOf = (i: number) => `line ${String(i).padStart(4, '0')} of the chaos job: abcdefghijklmnopqrstuvwxyz`;
const partLines = (part: number) => Array.from({ length: LINES_PER_PART }, (_, j) => lineOf(part * LINES_PER_PART + j));

export const INPUT = `${Array.from({ length: PARTS * LINES_PER_PART }, (_, i) => lineOf(i)).join('\n')}\n`;
const expectedUpper = (part: number) => `${partLines(part).join('\n').toUpperCase()}\n`;
const expectedChars = (part: number) => partLines(part).reduce((n, l) => n + l.length, 0);

export const PIPELINE = {
  name: 'chaos',
  fleet: FLEET,
  concurrency: 4,
  input: { split: { by: 'lines', size: LINES_PER_PART } },
  stages: [
    {
      id: UPPER,
      task: 'exec',
      params: { command: 'slow-upper', stdoutFile: 'out.txt' },
      timeout: '1m',
    },
    { id: COUNT, task: 'lines.count', needs: [UPPER], chain: 'stream', timeout: '1m' },
  ],
};


interface OutputRef {
  key: string;
}
interface Row {
  part: number;
  status: string;
  attempt: number;
  inputs: { key: string }[] | null;
  outputs: OutputRef[] | null;
  result: { lines?: number; chars?: number } | null;
}
interface ResultLine {
  stage: string;
  part: number;
  outputs: OutputRef[];
  result: { lines?: number; chars?: number } | null;
}
interface StageSummary {
  stageId: string;
  partsTotal: number;
  succeeded: number;
  failed: number;
}

export interface Audit {
  status: JobStatus | 'missing';
  /** The job's error as recorded, if it failed. */
  error?: string;
  /** Source parts that did not reach the final output. */
  lost: number;
  /** Source parts that reached it more than once (or whose count exceeds what the input implies). */
  countedTwice: number;
  /** Every way the output differs from what the input implies, one sentence each. */
  wrong: string[];
  /** Succeeded parts per stage. */
  done: Record<string, number>;
}

const UPPER_PART = new RegExp(`/stages/${UPPER}/parts/(\\d+)/`);
/** The upper part whose output this input key is, or undefined. */
const upperPartOf = (key: string): number | undefined => {
  const m = UPPER_PART.exec(key);
  return m ? Number(m[1]) : undefined;
};

/** Succeeded parts per stage of the job (what "progress" counts). */
export async function succeededParts(engine: TestEngine, jobId: string): Promise<Record<string, number>> {
  const r = await engine.db.pool.query<{ stage_id: string; n: string }>(
    `SELECT stage_id, count(*) AS n FROM task_runs WHERE job_id = $1 AND status = 'succeeded' GROUP BY stage_id`,
    [jobId],
  );
  return Object.fromEntries([UPPER, COUNT].map((s) => [s, Number(r.rows.find((row) => row.stage_id === s)?.n ?? 0)]));
}

export const total = (done: Record<string, number>) => Object.values(done).reduce((a, b) => a + b, 0);

async function rowsOf(engine: TestEngine, jobId: string, stageId: string): Promise<Row[]> {
  // A succeeded part's row no longer stores its inputs (it is never sent again: store/task-runs.ts
  // applyResults); a count part's, stream-chained, are the outputs of the same upper part, as
  // `batchgrid part` shows them. So the audit's tracing of count parts to upper parts rests on the
  // part numbers; loss and double counting are still read from results.jsonl.
  const r = await engine.db.pool.query<Row>(
    `SELECT d.part, d.status, d.attempt, d.outputs, d.result,
            coalesce(d.inputs, CASE WHEN d.stage_id = $3 AND d.status = 'succeeded' THEN
              (SELECT u.outputs FROM task_runs u WHERE u.job_id = d.job_id AND u.stage_id = $4 AND u.part = d.part AND u.status = 'succeeded') END) AS inputs
       FROM task_runs d WHERE d.job_id = $1 AND d.stage_id = $2 ORDER BY d.part`,
    [jobId, stageId, COUNT, UPPER],
  );
  return r.rows;
}

/**
 * What the job produced against what its input implies. Reads Postgres (task_runs, jobs) and,
 * when the job succeeded, results.jsonl and every output in S3.
 */
export async function auditJob(engine: TestEngine, jobId: string): Promise<Audit> {
  const job = await engine.db.pool.query<{ status: JobStatus; error: string | null; summary: { resultsKey?: string; stages?: StageSummary[] } | null }>(
    'SELECT status, error, summary FROM jobs WHERE job_id = $1',
    [jobId],
  );
  const upper = await rowsOf(engine, jobId, UPPER);
  const count = await rowsOf(engine, jobId, COUNT);
  const done = { [UPPER]: upper.filter((r) => r.status === 'succeeded').length, [COUNT]: count.filter((r) => r.status === 'succeeded').length };
  const wrong: string[] = [];
  if (job.rows.length === 0) return { status: 'missing', lost: PARTS, countedTwice: 0, wrong: ['no jobs row'], done };
  const { status, error, summary } = job.rows[0];

  // Which count parts made it to the end: results.jsonl when the job succeeded, else the succeeded rows.
  let finals: { part: number; result: ResultLine['result']; outputs: OutputRef[] }[] = count.filter((r) => r.status === 'succeeded').map((r) => ({ part: r.part, result: r.result, outputs: r.outputs ?? [] }));
  if (status === 'succeeded') {
    try {
      const lines = await engine.readJsonLines<ResultLine>(summary?.resultsKey ?? resultsKeyOf(jobId));
      finals = lines.filter((l) => l.stage === COUNT).map((l) => ({ part: l.part, result: l.result, outputs: l.outputs }));
      const others = lines.filter((l) => l.stage !== COUNT).length;
      if (others > 0) wrong.push(`results.jsonl has ${others} lines of stages other than ${COUNT}`);
    } catch (err) {
      wrong.push(`results.jsonl unreadable: ${(err as Error).message}`);
    }
    for (const id of [UPPER, COUNT]) {
      const s = summary?.stages?.find((x) => x.stageId === id);
      if (!s || s.partsTotal !== PARTS || s.succeeded !== PARTS || s.failed !== 0) wrong.push(`stage ${id} summary ${JSON.stringify(s ?? null)}, expected ${PARTS} parts, ${PARTS} succeeded, 0 failed`);
    }
  }

  // Trace each final count part back to the source (upper) part it read.
  const countByPart = new Map(count.map((r) => [r.part, r]));
  const reached = new Map<number, number>();
  const sources: { source: number; final: (typeof finals)[number] }[] = [];
  for (const f of finals) {
    const row = countByPart.get(f.part);
    const keys = (row?.inputs ?? []).map((i) => i.key);
    const from = keys.map(upperPartOf);
    if (!row || keys.length !== 1 || from[0] === undefined) {
      wrong.push(`count part ${f.part}: inputs ${JSON.stringify(keys)}, expected one upper output`);
      continue;
    }
    reached.set(from[0], (reached.get(from[0]) ?? 0) + 1);
    sources.push({ source: from[0], final: f });
  }
  let lost = 0;
  let countedTwice = 0;
  for (let p = 0; p < PARTS; p += 1) {
    const n = reached.get(p) ?? 0;
    if (n === 0) lost += 1;
    if (n > 1) countedTwice += 1;
  }
  const strays = [...reached.keys()].filter((p) => p < 0 || p >= PARTS);
  if (strays.length) wrong.push(`count parts read upper parts that do not exist: ${strays.join(', ')}`);
  const lineSum = finals.reduce((n, f) => n + (f.result?.lines ?? 0), 0);
  // A sum above the input's means something was counted twice even if the tracing above missed it.
  if (countedTwice === 0 && lineSum > PARTS * LINES_PER_PART) countedTwice = Math.ceil((lineSum - PARTS * LINES_PER_PART) / LINES_PER_PART);

  if (status === 'succeeded') {
    if (lineSum !== PARTS * LINES_PER_PART) wrong.push(`results count ${lineSum} lines, the input has ${PARTS * LINES_PER_PART}`);
    wrong.push(...(await contentProblems(engine, sources, countByPart, upper)));
  }
  return { status, error: error ?? undefined, lost, countedTwice, wrong, done };
}

/** Compares every output in S3 with what its source part implies. */
async function contentProblems(engine: TestEngine, sources: { source: number; final: { part: number; result: ResultLine['result']; outputs: OutputRef[] } }[], countByPart: Map<number, Row>, upper: Row[]): Promise<string[]> {
  const problems: string[] = [];
  const read = (key: string) => engine.readText(key).catch((err: Error) => `<unreadable: ${err.message}>`);
  for (const { source, final } of sources) {
    const inputKey = countByPart.get(final.part)!.inputs![0].key;
    const upperRow = upper.find((r) => r.part === source);
    if (upperRow?.status !== 'succeeded' || !(upperRow.outputs ?? []).some((o) => o.key === inputKey)) {
      problems.push(`count part ${final.part} read ${inputKey}, which is not the published output of upper part ${source}`);
    }
    const text = await read(inputKey);
    if (text !== expectedUpper(source)) problems.push(`upper part ${source}: ${inputKey} holds ${JSON.stringify(text.slice(0, 80))}…, not its ${LINES_PER_PART} lines upper-cased`);
    if (final.result?.lines !== LINES_PER_PART || final.result?.chars !== expectedChars(source)) {
      problems.push(`count part ${final.part} (of upper part ${source}) reports ${JSON.stringify(final.result)}, expected {"lines":${LINES_PER_PART},"chars":${expectedChars(source)}}`);
    }
    const out = final.outputs.find((o) => o.key.endsWith('/out.txt'));
    const counted = out ? await read(out.key) : '<no out.txt>';
    if (counted !== `${LINES_PER_PART}\n`) problems.push(`count part ${final.part}: out.txt holds ${JSON.stringify(counted)}, expected "${LINES_PER_PART}\\n"`);
  }
  return problems;
}
