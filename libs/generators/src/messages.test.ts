import { describe, expect, it } from 'vitest';
import { parseEvent, parseTimestamp, sensorEventSchema } from '@lambdaline/core';
import { MALFORMED_KINDS, generateEvents, generateMessages, type GeneratedMessage } from './index.js';

describe('generateMessages', () => {
  it('without options is the JSON of generateEvents, keyed by sensor', () => {
    const events = [...generateEvents({ seed: 4, count: 500 })];
    const messages = [...generateMessages({ seed: 4, count: 500 })];
    expect(messages.map((m) => m.raw)).toEqual(events.map((e) => JSON.stringify(e)));
    expect(messages.map((m) => m.key)).toEqual(events.map((e) => e.sensor_id));
    expect(messages.every((m) => m.expected === 'valid' && !m.late)).toBe(true);
  });

  it('makes about the chosen share malformed, each rejected by core with exactly its tag', () => {
    const n = 40_000;
    for (const share of [0, 0.05, 0.3, 1]) {
      let malformed = 0;
      for (const m of generateMessages({ seed: 21, count: n, malformedShare: share })) {
        const result = parseEvent(sensorEventSchema, m.raw);
        // Plain checks in the loop: expect() per message would dominate the run time.
        if (m.expected === 'valid') {
          if (!result.ok || JSON.stringify(result.event) !== m.raw) throw new Error(`tagged valid but not: ${m.raw}`);
        } else {
          malformed++;
          if (result.ok) throw new Error(`tagged ${m.expected} but valid: ${m.raw}`);
          if (result.rejection.code !== m.expected || result.rejection.field !== m.field) {
            throw new Error(`tagged ${m.expected}/${m.field}, core says ${result.rejection.code}/${result.rejection.field}: ${m.raw}`);
          }
        }
      }
      // Binomial: 4 standard deviations.
      expect(Math.abs(malformed - share * n)).toBeLessThanOrEqual(4 * Math.sqrt(n * share * (1 - share)) + 1e-9);
    }
  });

  it('covers every rejection code and several variants of each', () => {
    const byKind = new Map<string, Set<string>>();
    for (const m of generateMessages({ seed: 2, count: 20_000, malformedShare: 1 })) {
      const result = parseEvent(sensorEventSchema, m.raw);
      if (result.ok) throw new Error(m.raw);
      const shapes = byKind.get(m.expected) ?? new Set();
      // A variant's shape: core's reason with the quoted values and numbers blurred.
      shapes.add(`${m.field ?? ''}: ${result.rejection.reason.replace(/"[^"]*"/g, 'S').replace(/[0-9]+/g, 'N')}`);
      byKind.set(m.expected, shapes);
    }
    expect([...byKind.keys()].sort()).toEqual([...MALFORMED_KINDS].sort());
    for (const [kind, shapes] of byKind) expect(shapes.size, kind).toBeGreaterThan(2);
  });

  it('restricts malformed messages to the chosen kinds', () => {
    const kinds = new Set([...generateMessages({ seed: 2, count: 2000, malformedShare: 1, malformedKinds: ['bad_timestamp', 'not_allowed'] })].map((m) => m.expected));
    expect(kinds).toEqual(new Set(['bad_timestamp', 'not_allowed']));
  });

  it('keeps event ids unique and malformed messages in the place of their event', () => {
    const messages = [...generateMessages({ seed: 8, count: 5000, malformedShare: 0.2 })];
    const events = [...generateEvents({ seed: 8, count: 5000 })];
    messages.forEach((m, i) => {
      expect(m.index).toBe(i);
      expect(m.key).toBe(events[i]!.sensor_id);
      if (m.expected === 'valid') expect(m.event).toEqual(events[i]);
    });
  });

  it('pushes a share of valid events back by lateByMs, and jitters all by at most jitterMs', () => {
    const events = [...generateEvents({ seed: 6, count: 20_000 })];
    const messages = [...generateMessages({ seed: 6, count: 20_000, lateShare: 0.1, lateByMs: 3_600_000, jitterMs: 2000, malformedShare: 0.1 })];
    let late = 0;
    let outOfOrder = 0;
    let previous = -Infinity;
    messages.forEach((m: GeneratedMessage, i) => {
      if (m.expected !== 'valid') return;
      const shift = (parseTimestamp(events[i]!.ts) as number) - (parseTimestamp(m.event.ts) as number);
      if (m.late) {
        late++;
        expect(shift).toBeGreaterThanOrEqual(3_600_000);
        expect(shift).toBeLessThanOrEqual(3_602_000);
      } else {
        expect(shift).toBeGreaterThanOrEqual(0);
        expect(shift).toBeLessThanOrEqual(2000);
      }
      const t = parseTimestamp(m.event.ts) as number;
      if (t < previous) outOfOrder++;
      previous = t;
    });
    const valid = messages.filter((m) => m.expected === 'valid').length;
    expect(late / valid).toBeCloseTo(0.1, 1);
    expect(outOfOrder).toBeGreaterThan(1000);
  });
});
