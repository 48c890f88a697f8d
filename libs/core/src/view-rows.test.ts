import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sensorEvent, viewSpec } from '../test/arbitraries.js';
import { dailyByCategoryView, sensor5minView, sensorEventSchema } from './default-domain.js';
import { diffViewRows, finalizeRow, foldEvents, mergeViewRows, ViewAccumulator, type ViewRow } from './view-rows.js';
import { validateViewSpec } from './view-spec.js';

const daily = validateViewSpec(dailyByCategoryView, sensorEventSchema);
const fiveMin = validateViewSpec(sensor5minView, sensorEventSchema);

/** Cuts a list into consecutive pieces at the given (sorted, deduplicated) points. */
function split<T>(list: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((a, b) => a - b);
  const pieces: T[][] = [];
  let start = 0;
  for (const p of points) {
    pieces.push(list.slice(start, p));
    start = p;
  }
  pieces.push(list.slice(start));
  return pieces;
}

describe('folding any split of the events and combining the parts equals folding the whole list', () => {
  it.each([daily, fiveMin])('for the default view $name', (spec) => {
    fc.assert(
      fc.property(fc.array(sensorEvent, { maxLength: 120 }), fc.array(fc.nat(), { maxLength: 6 }), (events, cuts) => {
        const whole = foldEvents(spec, events);
        const pieces = split(events, cuts).map((piece) => foldEvents(spec, piece));
        expect(diffViewRows(spec, whole, mergeViewRows(spec, ...pieces))).toEqual([]);
      }),
    );
  });

  it('for random view specs, with the pieces combined in any order', () => {
    fc.assert(
      fc.property(
        viewSpec,
        fc.array(sensorEvent, { maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        (spec, events, cuts, reverse) => {
          const whole = foldEvents(spec, events);
          const pieces = split(events, cuts).map((piece) => foldEvents(spec, piece));
          if (reverse) pieces.reverse();
          expect(diffViewRows(spec, whole, mergeViewRows(spec, ...pieces))).toEqual([]);
        },
      ),
    );
  });
});

describe('ViewAccumulator', () => {
  const event = (ts: string, sensor: string, value1: number) => ({
    event_id: `${ts}-${sensor}`, ts, sensor_id: sensor, category: 'A', value1, value2: 5, status: 'OK',
  });

  it('buckets by UTC event-time windows', () => {
    const acc = new ViewAccumulator(fiveMin);
    acc.add(event('2024-05-01T10:04:59.999Z', 'sensor_1', 1));
    acc.add(event('2024-05-01T10:05:00.000Z', 'sensor_1', 3));
    acc.add(event('2024-05-01T10:09:00.000+00:00', 'sensor_1', 5));
    const rows = acc.rows().map((r) => finalizeRow(fiveMin, r));
    expect(rows).toEqual([
      { window_start: '2024-05-01T10:00:00.000Z', sensor_id: 'sensor_1', avg_value1: 1, min_value1: 1, max_value1: 1, message_count: 1 },
      { window_start: '2024-05-01T10:05:00.000Z', sensor_id: 'sensor_1', avg_value1: 4, min_value1: 3, max_value1: 5, message_count: 2 },
    ]);
  });

  it('orders rows by window, then dimensions', () => {
    const rows = foldEvents(daily, [
      { ...event('2024-05-02T00:00:00Z', 's', 1), category: 'B', sensor_id: 'sensor_1' },
      { ...event('2024-05-01T23:59:59Z', 's', 1), category: 'C', sensor_id: 'sensor_1' },
      { ...event('2024-05-01T00:00:00Z', 's', 1), category: 'A', sensor_id: 'sensor_1' },
    ]);
    expect(rows.map((r) => [new Date(r.windowStart).toISOString().slice(0, 10), r.dims[0]])).toEqual([
      ['2024-05-01', 'A'],
      ['2024-05-01', 'C'],
      ['2024-05-02', 'B'],
    ]);
  });

  it('evicts windows before a point and reports their keys', () => {
    const acc = new ViewAccumulator(fiveMin);
    acc.add(event('2024-05-01T10:00:00Z', 'sensor_1', 1));
    acc.add(event('2024-05-01T10:10:00Z', 'sensor_1', 1));
    expect(acc.evictBefore(Date.UTC(2024, 4, 1, 10, 5))).toHaveLength(1);
    expect(acc.size).toBe(1);
  });
});

describe('diffViewRows', () => {
  it('reports missing, extra and different rows', () => {
    const a: ViewRow = { windowStart: 0, dims: ['A'], parts: { avg_value1: { sum: 1, count: 1 }, avg_value2: { sum: 1, count: 1 }, record_count: { count: 1 } } };
    const b: ViewRow = { ...a, parts: { ...a.parts, record_count: { count: 2 } } };
    const c: ViewRow = { ...a, dims: ['B'] };
    expect(diffViewRows(daily, [a], [a])).toEqual([]);
    expect(diffViewRows(daily, [a], [b])).toEqual([expect.objectContaining({ measure: 'record_count' })]);
    expect(diffViewRows(daily, [a], [a, c])).toHaveLength(1);
    expect(diffViewRows(daily, [a, c], [a])).toHaveLength(1);
  });

  it('tolerates float-sum reordering but not real differences', () => {
    const row = (sum: number): ViewRow => ({ windowStart: 0, dims: ['A'], parts: { avg_value1: { sum, count: 3 }, avg_value2: { sum: 3, count: 3 }, record_count: { count: 3 } } });
    expect(diffViewRows(daily, [row(0.1 + 0.2 + 0.3)], [row(0.3 + 0.2 + 0.1)])).toEqual([]);
    expect(diffViewRows(daily, [row(0.6)], [row(0.61)])).toHaveLength(1);
  });
});
