import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { allowedCents, isCategory } from '../../examples/claims/pricing';
import claimsTasks, { type ClaimsSummary, type ValidateResult } from '../../examples/claims/tasks';
import { generateClaims, type GeneratedClaims } from '../../scripts/demo/generate-claims';
import { randomId, startEngine, type TestEngine } from '../support/engine';

/**
 * The claims example end to end on the real stack: its pipeline.yaml (split smaller), its
 * handlers on a fleet worker, over generated claims; the summary must match totals computed here
 * straight from the generated files.
 */
describe('claims example end to end', () => {
  let engine: TestEngine;
  let generated: GeneratedClaims;
  const dir = path.join(os.tmpdir(), `claims-${randomId()}`);

  beforeAll(async () => {
    generated = await generateClaims({ dir, rows: 2000, files: 2, seed: 11 });
    engine = await startEngine();
    await engine.startFleet(1, { tasks: claimsTasks, concurrency: 4 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const realDate = (text: string) => {
    const t = Date.parse(`${text}T00:00:00Z`);
    return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === text;
  };

  /** Totals over the generated lines without a defect, parsed here without the example's parser. */
  async function expectedTotals(discount: number) {
    const byCategory: Record<string, { claims: number; billedCents: number; allowedCents: number }> = {};
    const all = { claims: 0, billedCents: 0, allowedCents: 0 };
    for (const file of generated.files) {
      const lines = (await readFile(file, 'utf8')).split('\n').slice(1).filter(Boolean);
      for (const line of lines) {
        const f = line.split(',');
        const [member, date, category, procedure, units, amount] = [f[1], f[3], f[4]!, f[5]!, Number(f[6]), f[7]!];
        if (f.length !== 10 || member === '' || !realDate(date!) || !isCategory(category) || amount.startsWith('-')) continue;
        const billedCents = Math.round(Number(amount) * 100);
        const allowed = allowedCents({ category, procedureCode: procedure, units, billedCents }, { discount });
        for (const t of [all, (byCategory[category] ??= { claims: 0, billedCents: 0, allowedCents: 0 })]) {
          t.claims += 1;
          t.billedCents += billedCents;
          t.allowedCents += allowed;
        }
      }
    }
    return { ...all, byCategory };
  }

  test('validate → price → summarize counts and totals exactly what the generated data holds', async () => {
    const def = parse(await readFile(path.join(__dirname, '../../examples/claims/pipeline.yaml'), 'utf8'));
    def.input.split.size = 500;
    const discount = def.stages.find((s: { id: string }) => s.id === 'price').params.discount as number;
    const files = Object.fromEntries(await Promise.all(generated.files.map(async (f) => [path.basename(f), await readFile(f, 'utf8')] as const)));

    const { jobId, handle } = await engine.submit(def, files);
    const summary = await handle.result();
    expect(summary.status).toBe('succeeded');
    // 2 files of a header and 1,000 lines, 500 lines a part: 3 parts each.
    expect(summary.stages.map((s) => [s.stageId, s.partsTotal, s.succeeded, s.failed])).toEqual(
      expect.arrayContaining([
        ['validate', 6, 6, 0],
        ['price', 6, 6, 0],
        ['summarize', 1, 1, 0],
      ]),
    );

    const results = await engine.readJsonLines<{ stage: string; part: number; result: ClaimsSummary; outputs: { key: string }[] }>(summary.resultsKey!);
    expect(results).toHaveLength(1);
    const [entry] = results;
    expect(entry!.stage).toBe('summarize');
    const got = entry!.result;

    const expected = await expectedTotals(discount);
    expect(expected.claims).toBe(generated.rows - generated.invalid);
    expect({ claims: got.claims, billedCents: got.billedCents, allowedCents: got.allowedCents }).toEqual({ claims: expected.claims, billedCents: expected.billedCents, allowedCents: expected.allowedCents });
    expect(got.byCategory).toEqual(expected.byCategory);
    expect(got.files).toBe(6);
    expect(JSON.parse(await engine.readText(entry!.outputs.find((o) => o.key.endsWith('/summary.json'))!.key))).toEqual(got);

    // The validate parts' results add up to what the generator planted, reason by reason.
    const validated = (await engine.db.pool.query(`SELECT result FROM task_runs WHERE job_id = $1 AND stage_id = 'validate' AND status = 'succeeded'`, [jobId])).rows.map((r) => r.result as ValidateResult);
    const byReason: Record<string, number> = {};
    for (const v of validated) for (const [reason, n] of Object.entries(v.byReason)) byReason[reason] = (byReason[reason] ?? 0) + n;
    expect(validated.reduce((n, v) => n + v.accepted, 0)).toBe(expected.claims);
    expect(validated.reduce((n, v) => n + v.rejected, 0)).toBe(generated.invalid);
    expect(byReason).toEqual(generated.byDefect);
    // A rejected line keeps its reason and the record as it was.
    const rejected = await engine.readText(`jobs/${jobId}/stages/validate/parts/0/rejected.csv`);
    expect(rejected.split('\n')[0]).toBe('reason,detail,record');
  });
});
