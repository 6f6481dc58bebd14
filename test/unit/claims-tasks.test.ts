import pino from 'pino';
import { Readable } from 'node:stream';
import { CLAIMS_HEADER, checkClaimLine } from '../../examples/claims/claims';
import { allowedCents } from '../../examples/claims/pricing';
import claimsTasks, { price, PRICED_HEADER, REJECTED_HEADER, summarize, validate } from '../../examples/claims/tasks';
import { claimLines, DEFECTS, randomSequence } from '../../scripts/demo/generate-claims';
import { PermanentTaskError } from '../../worker';
import { splitLines } from '../../worker/lines';
import type { OutputBody, PartInfo, TaskContext, TaskDefinition } from '../../worker/task';

/** Runs a task over in-memory "objects" (key → text); returns its result and the outputs it wrote. */
async function runTask<P, R>(task: TaskDefinition<P, R>, rawParams: unknown, files: Record<string, string>) {
  const parsed = task.params.safeParse(rawParams);
  if (!parsed.success) throw new Error(`bad params: ${parsed.error.message}`);
  const inputs = Object.keys(files).map((key) => ({ key }));
  const written: Record<string, string> = {};
  const openInput = (i = 0) => Readable.from([Buffer.from(files[inputs[i]!.key]!)]);
  const ctx: TaskContext<P> = {
    params: parsed.data,
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    bucket: 'b',
    s3: undefined as never,
    inputs,
    receiveCount: 1,
    openInput,
    async *lines() {
      for (let i = 0; i < inputs.length; i++) yield* splitLines(openInput(i));
    },
    async writeOutput(name: string, body: OutputBody) {
      written[name] = typeof body === 'string' || body instanceof Uint8Array ? Buffer.from(body).toString() : Buffer.concat(await body.toArray()).toString();
      return { key: `out/${name}`, bytes: Buffer.byteLength(written[name]!) };
    },
    outputs: [],
  };
  const part: PartInfo = { jobId: 'j', stageId: 's', part: 0, attempt: 1, inputs, outputPrefix: 'out/' };
  return { result: await task.run(part, ctx), written };
}

describe('the claims generator', () => {
  const take = (n: number, spec = {}) => Array.from(claimLines({ rows: n, ...spec }));

  it('is deterministic for a seed', () => {
    expect(take(500, { seed: 7 })).toEqual(take(500, { seed: 7 }));
    expect(take(500, { seed: 7 })).not.toEqual(take(500, { seed: 8 }));
    const r = randomSequence(1);
    expect([r(), r()].every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('plants about the asked share of defects, of every kind, each rejected for that reason', () => {
    const lines = take(20_000);
    const bad = lines.filter((l) => l.defect);
    expect(bad.length / lines.length).toBeGreaterThan(0.02);
    expect(bad.length / lines.length).toBeLessThan(0.03);
    expect(new Set(bad.map((l) => l.defect))).toEqual(new Set(DEFECTS));
    const reasons = lines.map(({ line }) => {
      const checked = checkClaimLine(line, { strict: true });
      return checked.ok ? undefined : checked.reason;
    });
    expect(reasons).toEqual(lines.map((l) => l.defect));
  });

  it('keeps every service date in the month and refuses a bad month', () => {
    for (const { line, defect } of take(2000, { month: '2024-02' })) if (!defect) expect(line.split(',')[3]).toMatch(/^2024-02-(0[1-9]|1\d|2\d)$/);
    expect(() => take(1, { month: '2024-2' })).toThrow(/YYYY-MM/);
  });
});

describe('the claims tasks', () => {
  it('exports the three tasks as the module default', () => {
    expect(claimsTasks.map((t) => t.name)).toEqual(['claims.validate', 'claims.price', 'claims.summarize']);
  });

  it('validate → price → summarize agree with the pure functions', async () => {
    const lines = Array.from(claimLines({ rows: 3000, seed: 3, invalidShare: 0.05 }));
    const text = `${CLAIMS_HEADER}\n${lines.map((l) => l.line).join('\r\n')}`; // CRLF and no final newline
    const v = await runTask(validate, {}, { 'in/a.csv': text });
    const expectedBad = lines.filter((l) => l.defect);
    expect(v.result.accepted).toBe(lines.length - expectedBad.length);
    expect(v.result.rejected).toBe(expectedBad.length);
    const byReason: Record<string, number> = {};
    for (const l of expectedBad) byReason[l.defect!] = (byReason[l.defect!] ?? 0) + 1;
    expect(v.result.byReason).toEqual(byReason);
    expect(v.written['valid.csv']!.split('\n')[0]).toBe(CLAIMS_HEADER);
    expect(v.written['rejected.csv']!.startsWith(`${REJECTED_HEADER}\n`)).toBe(true);
    expect(v.written['rejected.csv']).toContain('malformed,"');

    const p = await runTask(price, { discount: 0.1 }, { 'x/valid.csv': v.written['valid.csv']!, 'x/rejected.csv': v.written['rejected.csv']! });
    let billed = 0;
    let allowed = 0;
    for (const l of lines) {
      const c = checkClaimLine(l.line, { strict: true });
      if (!c.ok) continue;
      billed += c.claim.billedCents;
      allowed += allowedCents(c.claim, { discount: 0.1 });
    }
    expect(p.result).toEqual({ claims: v.result.accepted, billedCents: billed, allowedCents: allowed });
    expect(p.written['priced.csv']!.split('\n')[0]).toBe(PRICED_HEADER);

    // Split the priced claims over two files, as two price parts would write them.
    const [head, ...rows] = p.written['priced.csv']!.trimEnd().split('\n');
    const half = Math.floor(rows.length / 2);
    const s = await runTask(summarize, {}, { 'p/0/priced.csv': [head, ...rows.slice(0, half)].join('\n'), 'p/1/priced.csv': `${[head, ...rows.slice(half)].join('\n')}\n`, 'p/1/other.txt': 'ignored' });
    expect(s.result).toMatchObject({ claims: v.result.accepted, billedCents: billed, allowedCents: allowed, files: 2 });
    const byCategory = Object.values(s.result.byCategory);
    expect(byCategory.reduce((n, t) => n + t.allowedCents, 0)).toBe(allowed);
    expect(JSON.parse(s.written['summary.json']!)).toEqual(s.result);
  });

  it('refuses bad params and a part without valid.csv', async () => {
    expect(validate.params.safeParse({ strict: 'yes' }).success).toBe(false);
    expect(price.params.safeParse({ discount: 2 }).success).toBe(false);
    expect(price.params.safeParse({ discont: 0.1 }).success).toBe(false);
    expect(price.params.parse(undefined)).toEqual({ discount: 0 });
    expect(validate.params.parse(undefined)).toEqual({ strict: true });
    await expect(runTask(price, {}, { 'x/other.csv': 'a\n' })).rejects.toThrow(PermanentTaskError);
  });
});
