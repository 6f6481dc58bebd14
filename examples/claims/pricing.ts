import type { Claim } from './claims';

/**
 * The pricing table of the claims example and the pure functions over it: the allowed amount of a
 * claim, and totals by category. Money is in integer cents throughout, so totals are exact.
 */

export interface CategoryPricing {
  /** Share of the billed amount the plan allows, in basis points (5500 = 55%). */
  allowedBp: number;
  /** Fee schedule: the most the plan allows per unit of a procedure, in cents. */
  fees: Readonly<Record<string, number>>;
}

/** The service categories a claim may have. */
export const CATEGORY_NAMES = ['professional', 'inpatient', 'outpatient', 'emergency', 'lab', 'imaging', 'pharmacy', 'dental'] as const;
export type Category = (typeof CATEGORY_NAMES)[number];

/** Each category's contracted rate and fee schedule (synthetic figures). */
export const CATEGORIES: Readonly<Record<Category, CategoryPricing>> = {
  professional: { allowedBp: 7000, fees: { '99202': 7_500, '99203': 11_500, '99213': 9_200, '99214': 13_100, '99215': 18_400 } },
  inpatient: { allowedBp: 5500, fees: { '99221': 10_500, '99222': 14_200, '99223': 21_000, '99231': 4_100, '99232': 7_600 } },
  outpatient: { allowedBp: 6500, fees: { '29881': 98_000, '45378': 62_000, '43239': 71_000, '66984': 85_000 } },
  emergency: { allowedBp: 6000, fees: { '99281': 6_000, '99282': 11_000, '99283': 19_000, '99284': 32_000, '99285': 47_000 } },
  lab: { allowedBp: 5000, fees: { '80053': 1_450, '85025': 1_070, '81001': 450, '83036': 1_300, '84443': 2_300 } },
  imaging: { allowedBp: 5500, fees: { '70450': 14_000, '71046': 3_200, '72148': 28_000, '74177': 42_000, '77067': 15_500 } },
  pharmacy: { allowedBp: 8500, fees: { J0696: 350, J1100: 120, J3301: 250, J7613: 90, J1885: 180 } },
  dental: { allowedBp: 7500, fees: { D0120: 5_500, D1110: 9_500, D0274: 6_500, D2391: 16_000, D2740: 110_000 } },
};

/** True for a known category. */
export const isCategory = (text: string): text is Category => Object.prototype.hasOwnProperty.call(CATEGORIES, text);

export interface PricingOptions {
  /** Network discount taken off the contracted amount, 0–1 (0.1 = 10%). */
  discount: number;
}

/**
 * The allowed amount of a claim, in cents: the category's share of the billed amount, capped by
 * the fee schedule (per unit × units) when the procedure is in it, less the discount. Rounded
 * half up at each step, in whole cents.
 */
export function allowedCents(claim: Pick<Claim, 'category' | 'procedureCode' | 'units' | 'billedCents'>, options: PricingOptions): number {
  const pricing = CATEGORIES[claim.category];
  const contracted = Math.round((claim.billedCents * pricing.allowedBp) / 10_000);
  const fee = pricing.fees[claim.procedureCode];
  const capped = fee === undefined ? contracted : Math.min(contracted, fee * claim.units);
  const discountBp = Math.round(options.discount * 10_000);
  return Math.round((capped * (10_000 - discountBp)) / 10_000);
}

/** Claims, billed and allowed cents: one category's totals, or all of them. */
export interface Totals {
  claims: number;
  billedCents: number;
  allowedCents: number;
}

/** Totals by category (only categories that had claims) and overall. */
export interface ClaimTotals extends Totals {
  byCategory: Partial<Record<Category, Totals>>;
}

export const emptyTotals = (): ClaimTotals => ({ claims: 0, billedCents: 0, allowedCents: 0, byCategory: {} });

/** Adds one priced claim to `totals` (in place) and returns it. */
export function addClaim(totals: ClaimTotals, category: Category, billed: number, allowed: number): ClaimTotals {
  const c = (totals.byCategory[category] ??= { claims: 0, billedCents: 0, allowedCents: 0 });
  c.claims += 1;
  c.billedCents += billed;
  c.allowedCents += allowed;
  totals.claims += 1;
  totals.billedCents += billed;
  totals.allowedCents += allowed;
  return totals;
}
