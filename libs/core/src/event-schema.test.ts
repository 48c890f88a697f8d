import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sensorEvent } from '../test/arbitraries.js';
import { sensorEventSchema } from './default-domain.js';
import { ConfigError, SchemaError } from './errors.js';
import {
  checkFieldValue,
  coerceTextFields,
  compileSlowValidator,
  parseEvent,
  validateEvent,
  validateEventSchema,
  type EventSchema,
  type RejectionCode,
} from './event-schema.js';

const good = {
  event_id: 'e-1',
  ts: '2024-05-01T12:00:00Z',
  sensor_id: 'sensor_7',
  category: 'B',
  value1: 12.5,
  value2: 42,
  status: 'OK',
};

describe('validateEvent on the default domain', () => {
  it('accepts a valid event and canonicalises its timestamp', () => {
    const result = validateEvent(sensorEventSchema, { ...good, ts: '2024-05-01T14:00:00+02:00', extra: 'ignored' });
    expect(result).toEqual({
      ok: true,
      event: { ...good, ts: '2024-05-01T12:00:00.000Z' },
      eventTime: Date.UTC(2024, 4, 1, 12),
    });
  });

  it('accepts every generated event', () => {
    fc.assert(fc.property(sensorEvent, (event) => {
      expect(validateEvent(sensorEventSchema, event).ok).toBe(true);
    }));
  });

  const cases: Array<[string, unknown, RejectionCode, string | undefined, RegExp]> = [
    ['null', null, 'not_an_object', undefined, /JSON object, got null/],
    ['an array', [good], 'not_an_object', undefined, /got an array/],
    ['a missing field', { ...good, category: undefined }, 'missing_field', 'category', /category is missing/],
    ['a string for a number', { ...good, value1: '12.5' }, 'wrong_type', 'value1', /value1 must be a number, got the string "12.5"/],
    ['a float for an integer', { ...good, value2: 4.5 }, 'wrong_type', 'value2', /must be an integer/],
    ['an integer out of range', { ...good, value2: 100 }, 'out_of_range', 'value2', /within 1..99, got 100/],
    ['an infinite number', { ...good, value1: Number.POSITIVE_INFINITY }, 'out_of_range', 'value1', /finite/],
    ['a value outside the enum', { ...good, category: 'Z' }, 'not_allowed', 'category', /one of A, B, C, D/],
    ['a value not matching the pattern', { ...good, sensor_id: 'sensor_0' }, 'not_allowed', 'sensor_id', /does not match/],
    ['a timestamp without offset', { ...good, ts: '2024-05-01T12:00:00' }, 'bad_timestamp', 'ts', /UTC offset/],
    ['an impossible date', { ...good, ts: '2023-02-29T00:00:00Z' }, 'bad_timestamp', 'ts', /day 29 does not exist/],
    ['a numeric timestamp', { ...good, ts: 1714560000000 }, 'bad_timestamp', 'ts', /ISO-8601 string/],
    ['garbage in the timestamp', { ...good, ts: 'yesterday' }, 'bad_timestamp', 'ts', /not an ISO-8601/],
  ];

  it.each(cases)('rejects %s with a reason naming the field', (_, input, code, field, reason) => {
    const result = validateEvent(sensorEventSchema, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.code).toBe(code);
    expect(result.rejection.field).toBe(field);
    expect(result.rejection.reason).toMatch(reason);
  });

  it.each(cases.filter(([, , , field]) => field !== undefined))('checkFieldValue gives the same rejection for %s', (_, input, code, field) => {
    const result = validateEvent(sensorEventSchema, input);
    const rejection = checkFieldValue(sensorEventSchema, field!, (input as Record<string, unknown>)[field!]);
    expect(rejection).toEqual(result.ok ? null : result.rejection);
    expect(rejection?.code).toBe(code);
    expect(rejection?.reason.startsWith(`${field} `)).toBe(true);
  });
});

describe('checkFieldValue', () => {
  const schema: EventSchema = {
    name: 'device_event',
    timeField: 'ts',
    fields: { ts: { type: 'timestamp' }, device: { type: 'integer', min: 1, max: 500 }, ok: { type: 'boolean' }, note: { type: 'string', required: false, maxLength: 4 } },
  };

  it('accepts every field value of a valid event', () => {
    fc.assert(fc.property(sensorEvent, (event) => {
      for (const [name, value] of Object.entries(event)) expect(checkFieldValue(sensorEventSchema, name, value)).toBeNull();
    }));
  });

  it.each([
    ['ts', '2024-05-01T14:00:00+02:00', null],
    ['ts', '2024-05-01T12:00:00', 'bad_timestamp'],
    ['device', 3, null],
    ['device', '3', 'wrong_type'],
    ['device', 501, 'out_of_range'],
    ['ok', false, null],
    ['ok', 'yes', 'wrong_type'],
    ['note', null, null],
    ['note', undefined, null],
    ['note', 'hello', 'out_of_range'],
    ['device', null, 'missing_field'],
  ] as const)('%s = %j → %s', (field, value, code) => {
    const rejection = checkFieldValue(schema, field, value);
    expect(rejection?.code ?? null).toBe(code);
    if (rejection) {
      expect(rejection.field).toBe(field);
      expect(rejection.reason.startsWith(`${field} `)).toBe(true);
    }
  });

  it('says an integer field must be an integer', () => {
    expect(checkFieldValue(schema, 'device', '3')?.reason).toBe('device must be an integer, got the string "3"');
  });

  it('throws a ConfigError for a field the schema does not have', () => {
    expect(() => checkFieldValue(schema, 'colour', 'red')).toThrowError(ConfigError);
    expect(() => checkFieldValue(schema, 'toString', 'x')).toThrow(expect.objectContaining({ field: 'fieldName', message: expect.stringMatching(/"toString" is not a field of schema device_event/) }));
  });
});

describe('parseEvent', () => {
  it('decodes bytes and validates', () => {
    expect(parseEvent(sensorEventSchema, Buffer.from(JSON.stringify(good))).ok).toBe(true);
  });

  it('reports malformed JSON and empty messages without throwing', () => {
    const bad = parseEvent(sensorEventSchema, '{"event_id": ');
    expect(bad.ok || bad.rejection.code).toBe('malformed_json');
    const empty = parseEvent(sensorEventSchema, null);
    expect(empty.ok || empty.rejection.code).toBe('malformed_json');
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      expect(() => parseEvent(sensorEventSchema, text)).not.toThrow();
    }));
  });
});

describe('coerceTextFields', () => {
  it('turns numeric text into numbers and leaves junk for the validator to reject', () => {
    const coerced = coerceTextFields(sensorEventSchema, { ...good, value1: '12.5', value2: 'forty' });
    expect(coerced.value1).toBe(12.5);
    const result = validateEvent(sensorEventSchema, coerced);
    expect(result.ok || result.rejection.field).toBe('value2');
  });
});

describe('validateEventSchema', () => {
  it('accepts the default schema', () => {
    expect(validateEventSchema(sensorEventSchema)).toBe(sensorEventSchema);
  });

  it.each([
    [{ ...sensorEventSchema, timeField: 'value1' }, 'schema.timeField'],
    [{ ...sensorEventSchema, fields: { ...sensorEventSchema.fields, value2: { type: 'float' } } }, 'schema.fields.value2.type'],
    [{ ...sensorEventSchema, fields: { ...sensorEventSchema.fields, _offset: { type: 'string' } } }, 'schema.fields._offset'],
    [{ ...sensorEventSchema, fields: { ...sensorEventSchema.fields, x: { type: 'number', enum: ['a'] } } }, 'schema.fields.x.enum'],
    [{ ...sensorEventSchema, fields: { ...sensorEventSchema.fields, x: { type: 'string', pattern: '(' } } }, 'schema.fields.x.pattern'],
    [{ ...sensorEventSchema, idField: 'value2' }, 'schema.idField'],
  ])('names the key of a bad schema (%#)', (schema, field) => {
    expect(() => validateEventSchema(schema)).toThrow(SchemaError);
    try {
      validateEventSchema(schema);
    } catch (error) {
      expect((error as SchemaError).field).toBe(field);
      expect((error as SchemaError).retriable).toBe(false);
    }
  });
});

describe('the generated fast path and the field-by-field validator agree', () => {
  // Messages that are valid, almost valid, or broken in one field: the fast
  // path must accept exactly the canonical valid ones, and every answer must be
  // what the slow validator alone would say.
  const mutation = fc.oneof(
    fc.constant({}),
    fc.record({ value2: fc.oneof(fc.integer({ min: -5, max: 120 }), fc.double(), fc.constant('7')) }),
    fc.record({ category: fc.constantFrom('A', 'Z', '', 7) }),
    fc.record({ sensor_id: fc.constantFrom('sensor_1', 'sensor_0', 'x') }),
    fc.record({ ts: fc.constantFrom('2024-05-01T12:00:00.000Z', '2024-05-01T12:00:00Z', '2024-05-01T14:00:00+02:00', '2024-02-30T00:00:00.000Z', 5) }),
    fc.record({ extra: fc.string() }),
    fc.record({ value1: fc.constantFrom(1.5, Number.NaN, null, '1') }),
  );
  it('on generated events with one mutation', () => {
    fc.assert(
      fc.property(sensorEvent, mutation, (event, change) => {
        const input = { ...event, ...change };
        const viaParse = parseEvent(sensorEventSchema, JSON.stringify(input));
        const viaValidate = validateEvent(sensorEventSchema, JSON.parse(JSON.stringify(input)));
        const slowOnly = compileSlowValidator(sensorEventSchema)(JSON.parse(JSON.stringify(input)), false);
        expect(viaParse).toEqual(slowOnly);
        expect(viaValidate).toEqual(slowOnly);
        if (viaParse.ok) expect(Object.keys(viaParse.event).sort()).toEqual(Object.keys(sensorEventSchema.fields).sort());
      }),
    );
  });

  it('does not modify an object passed to validateEvent', () => {
    const input = { ...good, ts: '2024-05-01T14:00:00+02:00', extra: 1 };
    const copy = { ...input };
    validateEvent(sensorEventSchema, input);
    expect(input).toEqual(copy);
  });
});
