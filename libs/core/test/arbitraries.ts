/** fast-check arbitraries shared by core's property tests. */
import fc from 'fast-check';
import type { LambdaEvent } from '../src/event-schema.js';
import type { MeasureOp } from '../src/measures.js';
import { sensorEventSchema } from '../src/default-domain.js';
import { validateViewSpec, type ResolvedViewSpec } from '../src/view-spec.js';

const DAY = 86_400_000;
const BASE = Date.UTC(2024, 4, 1);

/** Valid default-domain events over three days, values that stress float sums. */
export const sensorEvent: fc.Arbitrary<LambdaEvent> = fc.record({
  event_id: fc.uuid(),
  ts: fc.integer({ min: BASE, max: BASE + 3 * DAY - 1 }).map((t) => new Date(t).toISOString()),
  sensor_id: fc.integer({ min: 1, max: 6 }).map((n) => `sensor_${n}`),
  category: fc.constantFrom('A', 'B', 'C', 'D'),
  value1: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  value2: fc.integer({ min: 1, max: 99 }),
  status: fc.constantFrom('OK', 'WARNING', 'ERROR'),
});

const OPS: MeasureOp[] = ['count', 'sum', 'min', 'max', 'avg'];

/** Random valid view specs over the default schema. */
export const viewSpec: fc.Arbitrary<ResolvedViewSpec> = fc
  .record({
    window: fc.constantFrom('1m', '5m', '15m', '1h', '6h', '1d', '2d'),
    dimensions: fc.subarray(['sensor_id', 'category', 'status', 'value2']),
    measures: fc.array(
      fc.record({ op: fc.constantFrom(...OPS), field: fc.constantFrom('value1', 'value2', undefined) }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map(({ window, dimensions, measures }) =>
    validateViewSpec(
      {
        name: 'random_view',
        window,
        dimensions,
        measures: measures.map((m, i) => ({
          name: `m${i}_${m.op}`,
          op: m.op,
          ...(m.field === undefined && m.op === 'count' ? {} : { field: m.field ?? 'value1' }),
        })),
      },
      sensorEventSchema,
    ),
  );
