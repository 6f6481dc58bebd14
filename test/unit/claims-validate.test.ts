import { CLAIMS_HEADER, checkClaimLine, csvField, formatCents, isCalendarDate, isHeader, parseCents } from '../../examples/claims/claims';

const GOOD = 'CLM2025030000003,M023693,P00079,2025-03-09,professional,99213,1,83.96,E11.9,11';
const strict = { strict: true };
/** GOOD with field `index` replaced. */
const withField = (index: number, value: string) => GOOD.split(',').map((f, i) => (i === index ? value : f)).join(',');

describe('claims validation', () => {
  it('accepts a good line and parses it, money in cents', () => {
    expect(checkClaimLine(GOOD, strict)).toEqual({
      ok: true,
      claim: {
        claimId: 'CLM2025030000003',
        memberId: 'M023693',
        providerId: 'P00079',
        serviceDate: '2025-03-09',
        category: 'professional',
        procedureCode: '99213',
        units: 1,
        billedCents: 8396,
        diagnosisCode: 'E11.9',
        placeOfService: '11',
      },
    });
  });

  it.each([
    ['a truncated line', GOOD.split(',').slice(0, 7).join(','), 'malformed', '7 fields, expected 10'],
    ['an extra field', `${GOOD},EXTRA`, 'malformed', '11 fields, expected 10'],
    ['garbage', '#### corrupted record 17 ####', 'malformed', '1 fields, expected 10'],
    ['an empty claim id', withField(0, ''), 'malformed', 'claim_id is empty'],
    ['zero units', withField(6, '0'), 'malformed', 'units "0" is not a whole number from 1 to 999'],
    ['no member', withField(1, ''), 'missing_member', 'member_id is empty'],
    ['a day that does not exist', withField(3, '2025-02-29'), 'bad_date', 'service_date "2025-02-29" is not a YYYY-MM-DD date'],
    ['a US date', withField(3, '03/09/2025'), 'bad_date', expect.stringContaining('03/09/2025')],
    ['no date', withField(3, ''), 'bad_date', expect.stringContaining('""')],
    ['an unknown category', withField(4, 'vision'), 'unknown_category', expect.stringMatching(/^category "vision" is not one of professional, inpatient, /)],
    ['a category in the wrong case', withField(4, 'Professional'), 'unknown_category', expect.any(String)],
    ['a negative amount', withField(7, '-83.96'), 'negative_amount', 'billed_amount -83.96 is negative'],
    ['an amount with three decimals', withField(7, '1.234'), 'bad_amount', expect.any(String)],
    ['an amount with a currency sign', withField(7, '$5'), 'bad_amount', expect.any(String)],
    ['a procedure not in the fee schedule', withField(5, '99999'), 'unknown_procedure', 'procedure_code "99999" is not in the professional fee schedule'],
  ])('rejects %s', (_what, line, reason, detail) => {
    expect(checkClaimLine(line, strict)).toEqual({ ok: false, reason, detail });
  });

  it('reports the first problem of a line with several', () => {
    expect(checkClaimLine(withField(1, '').replace('2025-03-09', 'soon'), strict)).toMatchObject({ reason: 'missing_member' });
  });

  it('lets a procedure outside the fee schedule through when not strict', () => {
    expect(checkClaimLine(withField(5, '99999'), { strict: false })).toMatchObject({ ok: true, claim: { procedureCode: '99999' } });
  });

  it('recognises the header', () => {
    expect(isHeader(CLAIMS_HEADER)).toBe(true);
    expect(isHeader(GOOD)).toBe(false);
    expect(checkClaimLine(CLAIMS_HEADER, strict)).toMatchObject({ ok: false, reason: 'bad_date' });
  });
});

describe('claims field helpers', () => {
  it('parses amounts into cents exactly', () => {
    expect(parseCents('83.96')).toBe(8396);
    expect(parseCents('0.1')).toBe(10);
    expect(parseCents('7')).toBe(700);
    expect(parseCents('-0.05')).toBe(-5);
    expect(parseCents('1234567.89')).toBe(123456789);
    for (const bad of ['', '.5', '1.', '1.234', '1e3', ' 1', '1,000', '--1']) expect(parseCents(bad)).toBeUndefined();
  });

  it('formats cents as a decimal amount', () => {
    expect([formatCents(8396), formatCents(10), formatCents(0), formatCents(-5), formatCents(123456789)]).toEqual(['83.96', '0.10', '0.00', '-0.05', '1234567.89']);
    for (const cents of [0, 1, 99, 100, 101, 8396, 123456789]) expect(parseCents(formatCents(cents))).toBe(cents);
  });

  it('knows real calendar dates', () => {
    expect(['2025-03-31', '2024-02-29', '2000-02-29', '2025-12-01'].map(isCalendarDate)).toEqual([true, true, true, true]);
    expect(['2025-04-31', '2025-02-29', '1900-02-29', '2025-13-01', '2025-00-10', '2025-03-00', '2025-3-9', '2025-03-09T00:00'].map(isCalendarDate)).toEqual(Array(8).fill(false));
  });

  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });
});
