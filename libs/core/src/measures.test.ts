import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPartOf, measureMonoid, MEASURE_OPS, type MeasureOp, type MeasurePart, type Monoid } from './measures.js';

// Integers keep sums exact, so the laws can be checked with strict equality.
const value = fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constant(null));

function partOf(op: MeasureOp): fc.Arbitrary<MeasurePart> {
  const monoid = measureMonoid(op) as Monoid<MeasurePart>;
  return fc.array(value, { maxLength: 8 }).map((values) => values.reduce((acc, v) => monoid.combine(acc, monoid.of(v)), monoid.empty()));
}

describe.each(MEASURE_OPS)('the %s monoid', (op) => {
  const monoid = measureMonoid(op) as Monoid<MeasurePart>;
  const part = partOf(op);

  it('has empty() as left and right identity', () => {
    fc.assert(
      fc.property(part, (p) => {
        expect(monoid.combine(monoid.empty(), p)).toEqual(p);
        expect(monoid.combine(p, monoid.empty())).toEqual(p);
      }),
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(part, part, part, (a, b, c) => {
        expect(monoid.combine(monoid.combine(a, b), c)).toEqual(monoid.combine(a, monoid.combine(b, c)));
      }),
    );
  });

  it('is commutative (so partitions can be merged in any order)', () => {
    fc.assert(fc.property(part, part, (a, b) => {
      expect(monoid.combine(a, b)).toEqual(monoid.combine(b, a));
    }));
  });

  it('produces parts of the right shape', () => {
    fc.assert(fc.property(part, (p) => {
      expect(isPartOf(op, p)).toBe(true);
    }));
  });
});

describe('finalize', () => {
  it('turns avg parts into sum/count and nothing into null', () => {
    const avg = measureMonoid('avg');
    expect(avg.finalize(avg.combine(avg.of(1), avg.of(4)))).toBe(2.5);
    expect(avg.finalize(avg.empty())).toBeNull();
    expect(measureMonoid('min').finalize(measureMonoid('min').empty())).toBeNull();
    expect(measureMonoid('count').finalize(measureMonoid('count').of(null))).toBe(0);
  });

  it('ignores absent values like SQL aggregates do', () => {
    const sum = measureMonoid('sum');
    expect(sum.combine(sum.of(null), sum.of(3))).toEqual({ sum: 3 });
    const max = measureMonoid('max');
    expect(max.combine(max.of(null), max.of(-3))).toEqual({ max: -3 });
  });

  it('rejects parts of the wrong shape', () => {
    expect(isPartOf('avg', { sum: 1 })).toBe(false);
    expect(isPartOf('min', { min: 'x' })).toBe(false);
    expect(isPartOf('count', null)).toBe(false);
    expect(isPartOf('sum', { sum: Number.NaN })).toBe(false);
  });
});
