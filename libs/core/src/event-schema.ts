/**
 * What an event looks like, declared once and enforced the same way by every
 * layer: the speed layer on Kafka messages, the batch layer on ingested files,
 * the generators on what they emit. A bad event is rejected with the same code
 * and the same reason wherever it shows up.
 */
import { ConfigError, SchemaError } from './errors.js';
import { rawText } from './records.js';
import { canonicalTimestampMs, parseTimestamp } from './time.js';

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';

export interface FieldSpec {
  readonly type: FieldType;
  /** Defaults to true. An optional field may be absent or `null`. */
  readonly required?: boolean;
  /** For strings: the only values allowed. */
  readonly enum?: readonly string[];
  /** For strings: a regular expression (source text) the whole value must match. */
  readonly pattern?: string;
  /** For numbers and integers: inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** For strings: the longest value allowed (default 1024). */
  readonly maxLength?: number;
}

export interface EventSchema {
  /** Shown in messages and metrics. */
  readonly name: string;
  /** The event-time field (type `timestamp`): windows and the horizon use it. */
  readonly timeField: string;
  /** A unique id per event, if the domain has one. */
  readonly idField?: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

/** An event that passed validation: only the schema's fields, with the right types. */
export type LambdaEvent = Readonly<Record<string, string | number | boolean | null>>;

export type RejectionCode =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_field'
  | 'wrong_type'
  | 'out_of_range'
  | 'not_allowed'
  | 'bad_timestamp'
  | 'too_late';

/** Every rejection code, for exhaustive counters and tests. */
export const REJECTION_CODES: readonly RejectionCode[] = [
  'malformed_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'out_of_range',
  'not_allowed',
  'bad_timestamp',
  'too_late',
];

/** Why an input is not a valid event: a stable code, the field, and a sentence. */
export interface Rejection {
  readonly code: RejectionCode;
  readonly field?: string;
  readonly reason: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly event: LambdaEvent; readonly eventTime: number }
  | { readonly ok: false; readonly rejection: Rejection };

const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean', 'timestamp'];
const DEFAULT_MAX_LENGTH = 1024;

/** Checks that a schema is usable; throws a `SchemaError` naming the key otherwise. */
export function validateEventSchema(input: unknown): EventSchema {
  if (typeof input !== 'object' || input === null) throw new SchemaError('schema: must be an object', 'schema');
  const schema = input as Partial<EventSchema>;
  if (typeof schema.name !== 'string' || schema.name === '') throw new SchemaError('schema.name: must be a non-empty string', 'schema.name');
  if (typeof schema.fields !== 'object' || schema.fields === null || Object.keys(schema.fields).length === 0) {
    throw new SchemaError('schema.fields: must be an object with at least one field', 'schema.fields');
  }
  for (const [name, spec] of Object.entries(schema.fields)) {
    const at = `schema.fields.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SchemaError(`${at}: field names must be identifiers (letters, digits, _)`, at);
    if (name.startsWith('_')) throw new SchemaError(`${at}: names starting with _ are reserved for lambdaline's own columns`, at);
    if (typeof spec !== 'object' || spec === null || !FIELD_TYPES.includes(spec.type)) {
      throw new SchemaError(`${at}.type: must be one of ${FIELD_TYPES.join(', ')}`, `${at}.type`);
    }
    if (spec.enum !== undefined && (spec.type !== 'string' || !Array.isArray(spec.enum) || spec.enum.length === 0)) {
      throw new SchemaError(`${at}.enum: only for string fields, and must list at least one value`, `${at}.enum`);
    }
    if (spec.pattern !== undefined) {
      try {
        new RegExp(spec.pattern);
      } catch (error) {
        throw new SchemaError(`${at}.pattern: not a valid regular expression (${(error as Error).message})`, `${at}.pattern`);
      }
    }
    for (const bound of ['min', 'max'] as const) {
      if (spec[bound] !== undefined && (typeof spec[bound] !== 'number' || !(spec.type === 'number' || spec.type === 'integer'))) {
        throw new SchemaError(`${at}.${bound}: only for number and integer fields, and must be a number`, `${at}.${bound}`);
      }
    }
  }
  if (typeof schema.timeField !== 'string' || schema.fields[schema.timeField]?.type !== 'timestamp') {
    throw new SchemaError('schema.timeField: must name a field of type timestamp', 'schema.timeField');
  }
  if (schema.fields[schema.timeField]?.required === false) {
    throw new SchemaError('schema.timeField: the event-time field cannot be optional', 'schema.timeField');
  }
  if (schema.idField !== undefined && schema.fields[schema.idField]?.type !== 'string') {
    throw new SchemaError('schema.idField: must name a field of type string', 'schema.idField');
  }
  return schema as EventSchema;
}

type Rejected = Extract<ValidationResult, { ok: false }>;

const reject = (code: RejectionCode, reason: string, field?: string): Rejected => ({
  ok: false,
  rejection: field === undefined ? { code, reason } : { code, field, reason },
});

const missingField = (name: string): Rejected => reject('missing_field', `${name} is missing`, name);

type FieldValue = string | number | boolean | null;
/** Checks one present (non-null) value: the value to keep, or a rejection. */
type FieldCheck = (value: unknown) => FieldValue | Rejected;
/** `owned`: the input was just decoded by us, so it may become the event itself. */
type CompiledValidator = (input: unknown, owned: boolean) => ValidationResult;

const isRejection = (v: FieldValue | Rejected): v is Rejected => typeof v === 'object' && v !== null;

/**
 * Builds the checks of one field once, so validating an event is a loop over
 * closures with no per-event lookups of the spec. The speed layer validates
 * every Kafka message with this, so it is on the hot path.
 */
function compileField(name: string, spec: FieldSpec): FieldCheck {
  switch (spec.type) {
    case 'string': {
      const maxLength = spec.maxLength ?? DEFAULT_MAX_LENGTH;
      const allowed = spec.enum ? new Set(spec.enum) : null;
      const pattern = spec.pattern === undefined ? null : new RegExp(`^(?:${spec.pattern})$`);
      return (value) => {
        if (typeof value !== 'string') return reject('wrong_type', `${name} must be a string, got ${describe(value)}`, name);
        if (value.length > maxLength) return reject('out_of_range', `${name} is longer than ${maxLength} characters`, name);
        if (allowed && !allowed.has(value)) {
          return reject('not_allowed', `${name} must be one of ${spec.enum!.join(', ')}, got ${JSON.stringify(clip(value))}`, name);
        }
        if (pattern && !pattern.test(value)) {
          return reject('not_allowed', `${name} ${JSON.stringify(clip(value))} does not match /${spec.pattern}/`, name);
        }
        return value;
      };
    }
    case 'number':
    case 'integer': {
      const integer = spec.type === 'integer';
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const max = spec.max ?? Number.POSITIVE_INFINITY;
      return (value) => {
        if (typeof value !== 'number') return reject('wrong_type', `${name} must be ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`, name);
        if (!Number.isFinite(value)) return reject('out_of_range', `${name} must be finite, got ${value}`, name);
        if (integer && !Number.isInteger(value)) return reject('wrong_type', `${name} must be an integer, got ${value}`, name);
        if (value < min || value > max) {
          return reject('out_of_range', `${name} must be within ${spec.min ?? '-∞'}..${spec.max ?? '∞'}, got ${value}`, name);
        }
        return value;
      };
    }
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : reject('wrong_type', `${name} must be a boolean, got ${describe(value)}`, name));
    case 'timestamp':
      // The canonical text is computed by the caller, which also needs the epoch ms.
      return (value) => (typeof value === 'string' ? value : reject('bad_timestamp', `${name} must be an ISO-8601 string, got ${describe(value)}`, name));
  }
}

/** Epoch ms of a timestamp field's text (canonical fast path first), or its rejection. */
function timestampOf(name: string, text: string): number | Rejected {
  const fast = canonicalTimestampMs(text);
  if (!Number.isNaN(fast)) return fast;
  const parsed = parseTimestamp(text);
  return typeof parsed === 'string' ? reject('bad_timestamp', `${name} ${JSON.stringify(clip(text))}: ${parsed}`, name) : parsed;
}

/** One field's compiled check and what the validator needs to know about it. */
interface CompiledField {
  readonly name: string;
  readonly optional: boolean;
  readonly timestamp: boolean;
  readonly isTime: boolean;
  readonly check: FieldCheck;
}

const compiledFieldsCache = new WeakMap<EventSchema, ReadonlyMap<string, CompiledField>>();

/** The schema's fields compiled once, in schema order, cached per schema object. */
function compiledFields(schema: EventSchema): ReadonlyMap<string, CompiledField> {
  let fields = compiledFieldsCache.get(schema);
  if (!fields) {
    fields = new Map(
      Object.entries(schema.fields).map(([name, spec]) => [
        name,
        { name, optional: spec.required === false, timestamp: spec.type === 'timestamp', isTime: name === schema.timeField, check: compileField(name, spec) },
      ]),
    );
    compiledFieldsCache.set(schema, fields);
  }
  return fields;
}

/**
 * Checks one value of one schema field exactly as `validateEvent` checks it in
 * an event: the same compiled check, so the same code and reason (which starts
 * with the field's name), e.g. for a query's filter value. `null` or
 * `undefined` is fine for an optional field and `missing_field` for a required
 * one. Returns `null` when the value is valid. The checks are compiled once per
 * schema object and cached (shared with the validator). Throws a `ConfigError`
 * (field `fieldName`) when the schema has no such field.
 */
export function checkFieldValue(schema: EventSchema, fieldName: string, value: unknown): Rejection | null {
  const field = compiledFields(schema).get(fieldName);
  if (!field) throw new ConfigError(`fieldName: ${JSON.stringify(fieldName)} is not a field of schema ${schema.name}`, 'fieldName');
  if (value === undefined || value === null) return field.optional ? null : missingField(field.name).rejection;
  const checked = field.check(value);
  if (isRejection(checked)) return checked.rejection;
  if (field.timestamp) {
    const time = timestampOf(field.name, checked as string);
    if (typeof time !== 'number') return time.rejection;
  }
  return null;
}

/** Internal (tests): the field-by-field validator without the generated fast path. */
export function compileSlowValidator(schema: EventSchema): CompiledValidator {
  const fields = [...compiledFields(schema).values()];
  const known = new Set(fields.map((f) => f.name));
  return (input, owned) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return reject('not_an_object', `an event must be a JSON object, got ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}`);
    }
    const record = input as Record<string, unknown>;
    // A freshly decoded object becomes the event itself (no copy): that halves
    // the allocations on the speed layer's hot path.
    const event = (owned ? record : {}) as Record<string, FieldValue>;
    let eventTime = Number.NaN;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const value = record[field.name];
      if (value === undefined || value === null) {
        if (field.optional) {
          event[field.name] = null;
          continue;
        }
        return missingField(field.name);
      }
      const checked = field.check(value);
      if (isRejection(checked)) return checked;
      if (field.timestamp) {
        const time = timestampOf(field.name, checked as string);
        if (typeof time !== 'number') return time;
        // Canonical form on the way in, so the same instant is the same string in every layer.
        event[field.name] = new Date(time).toISOString();
        if (field.isTime) eventTime = time;
        continue;
      }
      if (!owned) event[field.name] = checked;
    }
    if (owned) {
      // Only schema fields are carried; unknown ones are dropped (rare, so the slow path is fine).
      let count = 0;
      for (const key in record) count++;
      if (count !== fields.length) for (const key of Object.keys(record)) if (!known.has(key)) delete record[key];
    }
    return { ok: true, event, eventTime };
  };
}

/**
 * The fast path: a straight-line predicate generated from the schema that
 * answers "is this exactly a valid event in canonical form, with no extra
 * fields?" and returns its event time, or NaN for anything else. Anything it
 * declines goes through the field-by-field validator above, which produces the
 * precise rejection (or canonicalises the timestamp), so both paths give the
 * same answers and only the common case is fast. Generated code avoids the
 * megamorphic per-field closure calls that dominated the speed layer's profile.
 */
type FastPath = (record: Record<string, unknown>) => number;

function compileFastPath(schema: EventSchema): FastPath | null {
  const args: unknown[] = [canonicalTimestampMs];
  const names: string[] = ['canonical'];
  const bind = (value: unknown): string => {
    names.push(`c${names.length}`);
    args.push(value);
    return names[names.length - 1]!;
  };
  const lines: string[] = ['var v, t = NaN, x, n = 0;'];
  const fields = Object.entries(schema.fields);
  for (const [name, spec] of fields) {
    const get = `v = r[${JSON.stringify(name)}];`;
    switch (spec.type) {
      case 'string': {
        const checks = [`typeof v !== 'string'`, `v.length > ${spec.maxLength ?? DEFAULT_MAX_LENGTH}`];
        if (spec.enum) checks.push(`!${bind(new Set(spec.enum))}.has(v)`);
        if (spec.pattern !== undefined) checks.push(`!${bind(new RegExp(`^(?:${spec.pattern})$`))}.test(v)`);
        lines.push(`${get} if (${checks.join(' || ')}) return NaN;`);
        break;
      }
      case 'number':
      case 'integer': {
        const checks = [`typeof v !== 'number'`, spec.type === 'integer' ? `!Number.isInteger(v)` : `!Number.isFinite(v)`];
        if (spec.min !== undefined) checks.push(`v < ${bind(spec.min)}`);
        if (spec.max !== undefined) checks.push(`v > ${bind(spec.max)}`);
        lines.push(`${get} if (${checks.join(' || ')}) return NaN;`);
        break;
      }
      case 'boolean':
        lines.push(`${get} if (typeof v !== 'boolean') return NaN;`);
        break;
      case 'timestamp':
        lines.push(`${get} if (typeof v !== 'string') return NaN; x = canonical(v); if (x !== x) return NaN;`);
        if (name === schema.timeField) lines.push('t = x;');
        break;
    }
  }
  lines.push(`for (var k in r) n++; if (n !== ${fields.length}) return NaN;`, 'return t;');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a validated schema only
    return new Function(...names, `return function fastPath(r) {\n${lines.join('\n')}\n};`)(...args) as FastPath;
  } catch {
    return null; // no code generation here (e.g. a CSP): the field-by-field validator still works
  }
}

function compileValidator(schema: EventSchema): CompiledValidator {
  const slow = compileSlowValidator(schema);
  const fast = compileFastPath(schema);
  if (!fast) return slow;
  return (input, owned) => {
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      const record = input as Record<string, FieldValue>;
      const eventTime = fast(record);
      if (eventTime === eventTime) return { ok: true, event: owned ? record : { ...record }, eventTime };
    }
    return slow(input, owned);
  };
}

const compiled = new WeakMap<EventSchema, CompiledValidator>();

/**
 * Validates one decoded value against the schema. Unknown extra fields are
 * ignored and not carried (the master dataset has fixed columns); the result
 * holds every schema field, `null` for absent optional ones. The schema is
 * compiled into checks on first use and cached, so keep using the same object.
 */
export function validateEvent(schema: EventSchema, input: unknown): ValidationResult {
  return compiledValidator(schema)(input, false);
}

// Almost every process validates against one schema: remember the last one to skip the WeakMap.
let lastSchema: EventSchema | null = null;
let lastValidator: CompiledValidator | null = null;

function compiledValidator(schema: EventSchema): CompiledValidator {
  if (schema === lastSchema) return lastValidator!;
  let validate = compiled.get(schema);
  if (!validate) {
    validate = compileValidator(schema);
    compiled.set(schema, validate);
  }
  lastSchema = schema;
  lastValidator = validate;
  return validate;
}

/**
 * Decodes a raw message (Kafka value, NDJSON line) and validates it. Never
 * throws: bad bytes come back as a `malformed_json` rejection.
 */
export function parseEvent(schema: EventSchema, raw: string | Uint8Array | null | undefined): ValidationResult {
  const text = rawText(raw);
  if (text === null) return reject('malformed_json', 'the message has no value');
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (error) {
    return reject('malformed_json', `not valid JSON: ${(error as Error).message}`);
  }
  return compiledValidator(schema)(decoded, true);
}

/**
 * Text sources (CSV) carry every value as a string. This converts the strings
 * of numeric and boolean fields to values when they spell one, and leaves them
 * alone otherwise so `validateEvent` reports the field as having the wrong type.
 */
export function coerceTextFields(schema: EventSchema, record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const [name, spec] of Object.entries(schema.fields)) {
    const value = record[name];
    if (typeof value !== 'string') continue;
    if (value === '') {
      out[name] = undefined;
    } else if ((spec.type === 'number' || spec.type === 'integer') && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) {
      out[name] = Number(value);
    } else if (spec.type === 'boolean' && (value === 'true' || value === 'false')) {
      out[name] = value === 'true';
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(clip(value))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function clip(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}
