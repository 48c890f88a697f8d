import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, FormatError } from './errors.js';
import {
  compareHorizons,
  decodeHorizon,
  emptyHorizon,
  extendHorizon,
  horizonEndOffset,
  horizonKey,
  horizonsEqual,
  isCoveredByHorizon,
  makeHorizon,
  mergeHorizons,
  parseOffset,
  type Horizon,
} from './horizon.js';

const partitionEntry = fc.record({
  topic: fc.constantFrom('events', 'other'),
  partition: fc.integer({ min: 0, max: 3 }),
  endOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String),
  maxEventTime: fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: null }),
});
const horizon: fc.Arbitrary<Horizon> = fc.array(partitionEntry, { maxLength: 6 }).map((entries) => makeHorizon(entries));

describe('Horizon', () => {
  it('covers exactly the offsets below the end offset', () => {
    const h = extendHorizon(emptyHorizon(), 'events', 0, '41', 1000);
    expect(horizonEndOffset(h, 'events', 0)).toBe('42');
    expect(isCoveredByHorizon(h, 'events', 0, '41')).toBe(true);
    expect(isCoveredByHorizon(h, 'events', 0, '42')).toBe(false);
    expect(isCoveredByHorizon(h, 'events', 1, '0')).toBe(false);
    expect(h.maxEventTime).toBe(1000);
  });

  it('handles 64-bit offsets exactly', () => {
    const h = extendHorizon(emptyHorizon(), 't', 0, '9223372036854775806', null);
    expect(horizonEndOffset(h, 't', 0)).toBe('9223372036854775807');
  });

  it('never moves backwards when extended with an older offset', () => {
    const h = extendHorizon(extendHorizon(emptyHorizon(), 't', 0, '10', 5), 't', 0, '3', 9);
    expect(horizonEndOffset(h, 't', 0)).toBe('11');
    expect(h.partitions[0]!.maxEventTime).toBe(9);
  });

  it('merge is commutative, associative, idempotent, and an upper bound', () => {
    fc.assert(
      fc.property(horizon, horizon, horizon, (a, b, c) => {
        expect(mergeHorizons(a, b)).toEqual(mergeHorizons(b, a));
        expect(mergeHorizons(mergeHorizons(a, b), c)).toEqual(mergeHorizons(a, mergeHorizons(b, c)));
        expect(mergeHorizons(a, a)).toEqual(a);
        expect(['after', 'equal']).toContain(compareHorizons(mergeHorizons(a, b), a));
      }),
    );
  });

  it('compare is a partial order consistent with equality', () => {
    fc.assert(
      fc.property(horizon, horizon, (a, b) => {
        const ab = compareHorizons(a, b);
        const ba = compareHorizons(b, a);
        const flipped = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
        expect(ba).toBe(flipped[ab]);
        expect(horizonsEqual(a, b)).toBe(ab === 'equal');
      }),
    );
  });

  it('treats a missing partition as offset 0', () => {
    expect(horizonsEqual(makeHorizon([{ topic: 't', partition: 0, endOffset: '0', maxEventTime: null }]), emptyHorizon())).toBe(true);
    expect(compareHorizons(emptyHorizon(), makeHorizon([{ topic: 't', partition: 2, endOffset: '1', maxEventTime: 1 }]))).toBe('before');
  });

  it('round-trips through JSON', () => {
    fc.assert(fc.property(horizon, (h) => {
      expect(decodeHorizon(JSON.parse(JSON.stringify(h)))).toEqual(h);
    }));
  });

  it('refuses malformed JSON horizons naming the field', () => {
    expect(() => decodeHorizon({ partitions: [{ topic: 't', partition: 0, endOffset: 5, maxEventTime: null }] })).toThrow(FormatError);
    expect(() => decodeHorizon({ partitions: [{ topic: 't', partition: 0, endOffset: 5, maxEventTime: null }] })).toThrow(
      /horizon\.partitions\[0\]\.endOffset/,
    );
    expect(() => decodeHorizon({ partitions: 'x' })).toThrow(/horizon\.partitions/);
  });

  it('refuses bad offsets', () => {
    expect(() => parseOffset('-1')).toThrow(ConfigError);
    expect(() => parseOffset('01')).toThrow(/not a non-negative integer offset/);
  });

  it('has a stable key', () => {
    const h = makeHorizon([
      { topic: 'b', partition: 1, endOffset: '5', maxEventTime: null },
      { topic: 'a', partition: 0, endOffset: '7', maxEventTime: null },
    ]);
    expect(horizonKey(h)).toBe('a:0@7,b:1@5');
    expect(horizonKey(emptyHorizon())).toBe('empty');
  });
});
