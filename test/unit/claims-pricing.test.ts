import { addClaim, allowedCents, CATEGORIES, CATEGORY_NAMES, emptyTotals, isCategory } from '../../examples/claims/pricing';

const none = { discount: 0 };
const tenPercent = { discount: 0.1 };

describe('claims pricing', () => {
  it('allows the category share of the billed amount when under the fee schedule', () => {
    // professional 70%: 83.96 → 58.772 → 58.77; less 10% → 52.893 → 52.89
    const claim = { category: 'professional', procedureCode: '99213', units: 1, billedCents: 8396 } as const;
    expect(allowedCents(claim, none)).toBe(5877);
    expect(allowedCents(claim, tenPercent)).toBe(5289);
  });

  it('caps at the fee schedule per unit times units', () => {
    // emergency 60% of 2000.00 = 1200.00, capped at 470.00; less 10% = 423.00
    expect(allowedCents({ category: 'emergency', procedureCode: '99285', units: 1, billedCents: 200_000 }, tenPercent)).toBe(42_300);
    // lab 50% of 43.93 = 21.965 → 21.97, capped at 4 × 4.50 = 18.00; less 10% = 16.20
    expect(allowedCents({ category: 'lab', procedureCode: '81001', units: 4, billedCents: 4393 }, tenPercent)).toBe(1620);
    expect(allowedCents({ category: 'lab', procedureCode: '81001', units: 5, billedCents: 4393 }, none)).toBe(2197);
  });

  it('rounds half a cent up, at each step', () => {
    expect(allowedCents({ category: 'lab', procedureCode: '85025', units: 1, billedCents: 1 }, none)).toBe(1); // 0.5 → 1
    expect(allowedCents({ category: 'lab', procedureCode: '85025', units: 1, billedCents: 10 }, tenPercent)).toBe(5); // 5 × 0.9 = 4.5 → 5
  });

  it('prices a procedure outside the fee schedule without a cap', () => {
    expect(allowedCents({ category: 'professional', procedureCode: 'X1', units: 1, billedCents: 1_000_000 }, none)).toBe(700_000);
  });

  it('takes no discount at 0 and everything at 1', () => {
    const claim = { category: 'dental', procedureCode: 'D2740', units: 1, billedCents: 150_000 } as const;
    expect(allowedCents(claim, none)).toBe(110_000);
    expect(allowedCents(claim, { discount: 1 })).toBe(0);
  });

  it('has a rate and fees for every category', () => {
    for (const c of CATEGORY_NAMES) {
      expect(isCategory(c)).toBe(true);
      expect(CATEGORIES[c].allowedBp).toBeGreaterThan(0);
      expect(CATEGORIES[c].allowedBp).toBeLessThanOrEqual(10_000);
      expect(Object.keys(CATEGORIES[c].fees).length).toBeGreaterThan(0);
    }
    expect(isCategory('toString')).toBe(false);
    expect(isCategory('vision')).toBe(false);
  });

  it('totals claims by category and overall', () => {
    const t = emptyTotals();
    addClaim(t, 'lab', 100, 50);
    addClaim(t, 'lab', 200, 90);
    addClaim(t, 'dental', 1000, 750);
    expect(t).toEqual({
      claims: 3,
      billedCents: 1300,
      allowedCents: 890,
      byCategory: { lab: { claims: 2, billedCents: 300, allowedCents: 140 }, dental: { claims: 1, billedCents: 1000, allowedCents: 750 } },
    });
  });
});
