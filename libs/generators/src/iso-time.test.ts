import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('equals Date#toISOString for any whole millisecond of years 0000..9999', () => {
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const min = Date.parse('0000-01-01T00:00:00.000Z');
    fc.assert(fc.property(fc.integer({ min, max }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }), { numRuns: 20_000 });
    for (const ms of [min, 0, -1, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), max]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
