import { describe, expect, it } from 'vitest';
import { dailyByCategoryView, defaultDomain, sensor5minView, sensorEventSchema } from './default-domain.js';
import { resolveDomain } from './domain.js';
import { ViewSpecError } from './errors.js';
import { validateViewSpec, validateViewSpecs } from './view-spec.js';

function fieldOfError(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ViewSpecError);
    return (error as ViewSpecError).field;
  }
  throw new Error('expected a ViewSpecError');
}

describe('validateViewSpec', () => {
  it('resolves the default views', () => {
    expect(validateViewSpec(dailyByCategoryView, sensorEventSchema)).toMatchObject({ timeField: 'ts', windowMs: 86_400_000 });
    expect(validateViewSpec(sensor5minView, sensorEventSchema)).toMatchObject({ windowMs: 300_000 });
  });

  const base = { name: 'v', window: '1h', dimensions: ['category'], measures: [{ name: 'n', op: 'count' }] };
  it.each([
    [{ ...base, name: 'Bad Name' }, 'view.name'],
    [{ ...base, window: '7m' }, 'view.window'],
    [{ ...base, window: '36h' }, 'view.window'],
    [{ ...base, window: 'hourly' }, 'view.window'],
    [{ ...base, timeField: 'category' }, 'view.timeField'],
    [{ ...base, dimensions: ['nope'] }, 'view.dimensions[0]'],
    [{ ...base, dimensions: ['value1'] }, 'view.dimensions[0]'],
    [{ ...base, dimensions: ['category', 'category'] }, 'view.dimensions[1]'],
    [{ ...base, measures: [] }, 'view.measures'],
    [{ ...base, measures: [{ name: 'a', op: 'median', field: 'value1' }] }, 'view.measures[0].op'],
    [{ ...base, measures: [{ name: 'a', op: 'avg' }] }, 'view.measures[0].field'],
    [{ ...base, measures: [{ name: 'a', op: 'sum', field: 'status' }] }, 'view.measures[0].field'],
    [{ ...base, measures: [{ name: 'category', op: 'count' }] }, 'view.measures[0].name'],
    [{ ...base, measures: [{ name: 'window_start', op: 'count' }] }, 'view.measures[0].name'],
    [{ ...base, measures: [{ name: 'n', op: 'count' }, { name: 'n', op: 'count' }] }, 'view.measures[1].name'],
  ])('names the path of the problem (%#)', (spec, field) => {
    expect(fieldOfError(() => validateViewSpec(spec, sensorEventSchema))).toBe(field);
  });

  it("refuses a time field other than the schema's event time (every layer windows on one clock)", () => {
    const schema = { ...sensorEventSchema, fields: { ...sensorEventSchema.fields, seen_at: { type: 'timestamp' as const } } };
    expect(fieldOfError(() => validateViewSpec({ ...base, timeField: 'seen_at' }, schema))).toBe('view.timeField');
    expect(validateViewSpec({ ...base, timeField: 'ts' }, schema).timeField).toBe('ts');
  });

  it('refuses duplicate view names in a list', () => {
    expect(fieldOfError(() => validateViewSpecs([dailyByCategoryView, dailyByCategoryView], sensorEventSchema))).toBe('views[1].name');
  });

  it('resolves a whole domain from config data', () => {
    const domain = resolveDomain(JSON.parse(JSON.stringify(defaultDomain)));
    expect(domain.views.map((v) => v.name)).toEqual(['daily_by_category', 'sensor_5min']);
  });
});
