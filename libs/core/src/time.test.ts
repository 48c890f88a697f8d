import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { canonicalTimestampMs, formatTimestamp, parseGranularity, parseTimestamp, utcDay, windowStartOf } from './time.js';

describe('parseGranularity', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['7d', 7 * 86_400_000],
  ])('%s = %d ms', (text, ms) => expect(parseGranularity(text)).toBe(ms));

  it.each(['0m', '5', 'm', '1.5h', '7m', '25h', '-1d'])('refuses %s naming the field', (text) => {
    expect(() => parseGranularity(text, 'views[0].window')).toThrow(ConfigError);
    expect(() => parseGranularity(text, 'views[0].window')).toThrow(/views\[0\]\.window/);
  });
});

describe('windows and days', () => {
  it('aligns windows to the epoch in UTC', () => {
    expect(windowStartOf(Date.UTC(2024, 0, 1, 13, 7, 59), 300_000)).toBe(Date.UTC(2024, 0, 1, 13, 5));
    expect(utcDay(Date.UTC(2024, 0, 1, 23, 59, 59, 999))).toBe('2024-01-01');
  });

  it('every instant lies in its window', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), fc.constantFrom(1_000, 60_000, 300_000, 3_600_000, 86_400_000), (t, w) => {
        const start = windowStartOf(t, w);
        expect(start).toBeLessThanOrEqual(t);
        expect(t - start).toBeLessThan(w);
        expect(start % w === 0).toBe(true);
      }),
    );
  });
});

describe('parseTimestamp', () => {
  it('round-trips canonical timestamps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (t) => {
        expect(parseTimestamp(formatTimestamp(t))).toBe(t);
      }),
    );
  });

  it('honours offsets and fractional seconds', () => {
    expect(parseTimestamp('2024-05-01T12:00:00.5-01:30')).toBe(Date.UTC(2024, 4, 1, 13, 30, 0, 500));
    expect(parseTimestamp('2024-02-29T00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it.each(['2024-13-01T00:00:00Z', '2024-04-31T00:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01', '2024-05-01T00:00:00+25:00'])(
    'explains why %s is not a timestamp',
    (text) => expect(typeof parseTimestamp(text)).toBe('string'),
  );
});

describe('canonicalTimestampMs (the allocation-free fast path)', () => {
  it('agrees with parseTimestamp on every canonical timestamp, years 0001..9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (t) => {
        const text = formatTimestamp(t);
        expect(canonicalTimestampMs(text)).toBe(t);
        expect(parseTimestamp(text)).toBe(t);
      }),
    );
  });

  it('declines (NaN) anything not exactly canonical, leaving it to parseTimestamp', () => {
    for (const text of ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000+00:00', '2024-02-30T00:00:00.000Z', '2023-02-29T00:00:00.000Z',
      '2024-05-01T24:00:00.000Z', '2024-05-01T12:60:00.000Z', '2024-13-01T00:00:00.000Z', '2024-05-01 12:00:00.000Z', '2024-05-0aT12:00:00.000Z']) {
      expect(canonicalTimestampMs(text)).toBeNaN();
    }
    expect(canonicalTimestampMs('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  });
});
