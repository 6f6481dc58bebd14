import { CATEGORIES, CATEGORY_NAMES, isCategory, type Category } from './pricing';

/**
 * The claims record format (CSV, one claim a line, no quoting: no field contains a comma) and its
 * validation. Pure functions: the handlers, the generator and the tests share them.
 */

/** The columns of a claims file, in order. Every file starts with this header line. */
export const CLAIM_COLUMNS = [
  'claim_id',
  'member_id',
  'provider_id',
  'service_date',
  'category',
  'procedure_code',
  'units',
  'billed_amount',
  'diagnosis_code',
  'place_of_service',
] as const;

/** The header line of claims files (and of `valid.csv`). */
export const CLAIMS_HEADER = CLAIM_COLUMNS.join(',');

/** One valid claim; money in integer cents so totals are exact. */
export interface Claim {
  claimId: string;
  memberId: string;
  providerId: string;
  /** `YYYY-MM-DD`, a real calendar date. */
  serviceDate: string;
  category: Category;
  procedureCode: string;
  /** Whole number ≥ 1. */
  units: number;
  /** ≥ 0. */
  billedCents: number;
  diagnosisCode: string;
  placeOfService: string;
}

/** Why a line was rejected: the `reason` column of `rejected.csv` and the keys of `byReason`. */
export const REJECT_REASONS = ['malformed', 'missing_member', 'bad_date', 'unknown_category', 'bad_amount', 'negative_amount', 'unknown_procedure'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type CheckedLine = { ok: true; claim: Claim } | { ok: false; reason: RejectReason; detail: string };

export interface CheckOptions {
  /** Reject procedure codes missing from the category's fee schedule (`unknown_procedure`); otherwise they are priced without a cap. */
  strict: boolean;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const AMOUNT = /^-?\d{1,9}(\.\d{1,2})?$/;
const UNITS = /^[1-9]\d{0,2}$/;

/** True for a header line (each input file has one; only the first part of a file sees it). */
export const isHeader = (line: string) => line === CLAIMS_HEADER;

/** Checks one data line; the first problem found is the reason. */
export function checkClaimLine(line: string, options: CheckOptions): CheckedLine {
  const reject = (reason: RejectReason, detail: string): CheckedLine => ({ ok: false, reason, detail });
  const f = line.split(',');
  if (f.length !== CLAIM_COLUMNS.length) return reject('malformed', `${f.length} fields, expected ${CLAIM_COLUMNS.length}`);
  const [claimId, memberId, providerId, serviceDate, category, procedureCode, units, amount, diagnosisCode, placeOfService] = f;
  if (!claimId) return reject('malformed', 'claim_id is empty');
  if (!memberId) return reject('missing_member', 'member_id is empty');
  if (!providerId) return reject('malformed', 'provider_id is empty');
  if (!isCalendarDate(serviceDate)) return reject('bad_date', `service_date ${JSON.stringify(serviceDate)} is not a YYYY-MM-DD date`);
  if (!isCategory(category)) return reject('unknown_category', `category ${JSON.stringify(category)} is not one of ${CATEGORY_NAMES.join(', ')}`);
  if (!UNITS.test(units)) return reject('malformed', `units ${JSON.stringify(units)} is not a whole number from 1 to 999`);
  const billedCents = parseCents(amount);
  if (billedCents === undefined) return reject('bad_amount', `billed_amount ${JSON.stringify(amount)} is not an amount`);
  if (billedCents < 0) return reject('negative_amount', `billed_amount ${amount} is negative`);
  if (options.strict && CATEGORIES[category].fees[procedureCode] === undefined) {
    return reject('unknown_procedure', `procedure_code ${JSON.stringify(procedureCode)} is not in the ${category} fee schedule`);
  }
  return {
    ok: true,
    claim: { claimId, memberId, providerId, serviceDate: serviceDate, category, procedureCode: procedureCode, units: Number(units), billedCents, diagnosisCode: diagnosisCode, placeOfService: placeOfService },
  };
}

/** `123.4` → 12340; `-5` → -500; undefined for anything but a plain decimal with at most two decimals. */
export function parseCents(text: string): number | undefined {
  if (!AMOUNT.test(text)) return undefined;
  const negative = text.startsWith('-');
  const [whole, frac = ''] = (negative ? text.slice(1) : text).split('.');
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return negative ? -cents : cents;
}

/** 12340 → `123.40`; -5 → `-0.05`. */
export function formatCents(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` naming a day that exists (no 2025-02-30). */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
