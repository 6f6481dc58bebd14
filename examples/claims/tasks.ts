import { Readable } from 'node:stream';
import { z } from 'zod';
import { eachLimited } from '../../common/concurrency';
import { PermanentTaskError, defineTask, type TaskContext } from '../../worker';
import { splitLines } from '../../worker/lines';
import { CLAIMS_HEADER, checkClaimLine, csvField, formatCents, isHeader, parseCents, type RejectReason } from './claims';
import { addClaim, allowedCents, emptyTotals, isCategory, type ClaimTotals } from './pricing';

/**
 * The claims example's task handlers (see README.md): validate → price (stream-chained) →
 * summarize (gathered). Run them on a fleet with
 * `batchgrid fleet-worker --tasks dist/examples/claims/tasks.js`.
 */

/** Header of `rejected.csv`: the reason, why in words, and the line as it was (quoted). */
export const REJECTED_HEADER = 'reason,detail,record';
/** Header of `priced.csv`: the claim's columns and the allowed amount. */
export const PRICED_HEADER = `${CLAIMS_HEADER},allowed_amount`;

/** Inputs `claims.summarize` reads at once. */
const READ_CONCURRENCY = 8;

const ValidateParams = z.strictObject({ strict: z.boolean().default(true) }).prefault({});
const PriceParams = z.strictObject({ discount: z.number().min(0).max(1).default(0) }).prefault({});

export type ByReason = Partial<Record<RejectReason, number>>;

/** What `claims.validate` returns for its part. */
export interface ValidateResult {
  accepted: number;
  rejected: number;
  byReason: ByReason;
}

/** What `claims.summarize` returns and writes to `summary.json`: totals by category and overall. */
export interface ClaimsSummary extends ClaimTotals {
  /** How many `priced.csv` files were read. */
  files: number;
}

/** Splits a part's claims into `valid.csv` and `rejected.csv` (with a reason per line). */
export const validate = defineTask({
  name: 'claims.validate',
  description: 'Checks every claim; writes valid.csv and rejected.csv (reason, detail, record).',
  params: ValidateParams,
  async run(_part, ctx): Promise<ValidateResult> {
    let accepted = 0;
    const byReason: ByReason = {};
    // Rejections are a few per cent of a part, so they are kept until the valid lines are written.
    const rejected: string[] = [];
    const valid = textStream(async function* () {
      yield `${CLAIMS_HEADER}\n`;
      for await (const line of ctx.lines()) {
        if (line === '' || isHeader(line)) continue;
        const checked = checkClaimLine(line, ctx.params);
        if (checked.ok) {
          accepted += 1;
          yield `${line}\n`;
        } else {
          byReason[checked.reason] = (byReason[checked.reason] ?? 0) + 1;
          rejected.push(`${checked.reason},${csvField(checked.detail)},${csvField(line)}\n`);
        }
      }
    });
    await ctx.writeOutput('valid.csv', valid, { contentType: 'text/csv' });
    await ctx.writeOutput('rejected.csv', `${REJECTED_HEADER}\n${rejected.join('')}`, { contentType: 'text/csv' });
    return { accepted, rejected: rejected.length, byReason };
  },
});

/** Prices the valid claims of one validated part into `priced.csv`. */
export const price = defineTask({
  name: 'claims.price',
  description: 'Prices valid.csv with the fee schedule and a discount; writes priced.csv.',
  params: PriceParams,
  async run(_part, ctx) {
    const [validCsv] = inputsNamed(ctx, 'valid.csv');
    if (validCsv === undefined) throw new PermanentTaskError(`no valid.csv among this part's ${ctx.inputs.length} input(s): claims.price reads the output of claims.validate`);
    const totals = emptyTotals();
    const priced = textStream(async function* () {
      yield `${PRICED_HEADER}\n`;
      for await (const line of linesOf(ctx, validCsv)) {
        if (line === '' || isHeader(line)) continue;
        const checked = checkClaimLine(line, { strict: false });
        if (!checked.ok) throw new PermanentTaskError(`valid.csv holds an invalid claim (${checked.detail}): ${line}`);
        const allowed = allowedCents(checked.claim, ctx.params);
        addClaim(totals, checked.claim.category, checked.claim.billedCents, allowed);
        yield `${line},${formatCents(allowed)}\n`;
      }
    });
    await ctx.writeOutput('priced.csv', priced, { contentType: 'text/csv' });
    return { claims: totals.claims, billedCents: totals.billedCents, allowedCents: totals.allowedCents };
  },
});

/** Totals every `priced.csv` (its part's inputs: every price part's outputs) by category into `summary.json`. */
export const summarize = defineTask({
  name: 'claims.summarize',
  description: 'Totals priced claims by category; writes summary.json.',
  async run(_part, ctx): Promise<ClaimsSummary> {
    const priced = inputsNamed(ctx, 'priced.csv');
    const summary: ClaimsSummary = { ...emptyTotals(), files: priced.length };
    // Totals are sums, so the files can be read in any order: a few at a time hides S3's latency.
    await eachLimited(priced, READ_CONCURRENCY, async (index) => {
      for await (const line of linesOf(ctx, index)) {
        if (line === '' || line === PRICED_HEADER) continue;
        const f = line.split(',');
        const [category, billed, allowed] = [f[4] ?? '', parseCents(f[7] ?? ''), parseCents(f[10] ?? '')];
        if (!isCategory(category) || billed === undefined || allowed === undefined) {
          throw new PermanentTaskError(`${ctx.inputs[index]!.key} holds a line that is not a priced claim: ${line}`);
        }
        addClaim(summary, category, billed, allowed);
      }
    });
    await ctx.writeOutput('summary.json', `${JSON.stringify(summary, null, 2)}\n`, { contentType: 'application/json' });
    return summary;
  },
});

/** Indexes of the inputs with this file name (`…/valid.csv`), in input order. */
function inputsNamed(ctx: TaskContext, name: string): number[] {
  return ctx.inputs.flatMap((ref, i) => (ref.key === name || ref.key.endsWith(`/${name}`) ? [i] : []));
}

/** The lines of one input, streamed. */
const linesOf = (ctx: TaskContext, index: number) => splitLines(ctx.openInput(index));

/** A byte stream from text pieces, gathered into chunks of about 64 KiB so an upload sees few, large writes. */
function textStream(pieces: () => AsyncGenerator<string>): Readable {
  return Readable.from(
    (async function* () {
      let chunk = '';
      for await (const piece of pieces()) {
        chunk += piece;
        if (chunk.length >= 65_536) {
          yield Buffer.from(chunk);
          chunk = '';
        }
      }
      if (chunk !== '') yield Buffer.from(chunk);
    })(),
    { objectMode: false },
  );
}

export default [validate, price, summarize];
