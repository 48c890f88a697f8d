/**
 * Query parameters: what `ServingLayer.query` accepts from JS and what the
 * HTTP API accepts as text. Both end as one `NormalizedQuery`; every bad value
 * is a core `ConfigError` whose `field` is the parameter name, so the HTTP
 * layer can answer 400 `{ error, parameter }` without guessing.
 *
 * Values never become text of another language: filters are compared with
 * `===` against the in-memory rows, typed by the schema field they name.
 */
import {
  ConfigError,
  checkFieldValue,
  parseTimestamp,
  type DimensionValue,
  type EventSchema,
  type FieldSpec,
  type ResolvedViewSpec,
} from '@lambdaline/core';

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;
/** The query-control parameters; every other parameter must be a dimension of the view. */
export const CONTROL_PARAMETERS = ['from', 'to', 'limit'] as const;

export type TimeBound = number | string | Date;

export interface QueryOptions {
  /** Inclusive lower bound on `window_start`: epoch ms, ISO-8601 with offset, `YYYY-MM-DD` (UTC) or a Date. */
  readonly from?: TimeBound;
  /** Exclusive upper bound on `window_start`, same forms as `from`. */
  readonly to?: TimeBound;
  /** Dimension → value, or several values (any of them matches). Typed by the schema field. */
  readonly filters?: Readonly<Record<string, DimensionValue | readonly DimensionValue[]>>;
  /** 1..10000, default 1000. Rows beyond it are cut and the answer says `truncated: true`. */
  readonly limit?: number;
}

export interface DimensionFilter {
  readonly dimension: string;
  /** Position of the dimension in the view's `dimensions`. */
  readonly index: number;
  readonly values: ReadonlySet<DimensionValue>;
}

export interface NormalizedQuery {
  readonly from: number | null;
  readonly to: number | null;
  readonly filters: readonly DimensionFilter[];
  readonly limit: number;
  /** Identifies the query for caching. */
  readonly key: string;
}

const fail = (field: string, why: string): never => {
  throw new ConfigError(`${field}: ${why}`, field);
};

const MAX_TIME = 8.64e15; // the range of a JS Date
const EPOCH_MS = /^-?[0-9]{1,19}$/;
const DATE_ONLY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

function parseTimeText(text: string, field: string): number {
  if (EPOCH_MS.test(text)) {
    const ms = Number(text);
    if (Math.abs(ms) > MAX_TIME) fail(field, `${text} is outside the range of dates`);
    return ms;
  }
  const parsed = parseTimestamp(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
  if (typeof parsed === 'string') {
    return fail(field, `${JSON.stringify(clip(text))} is not a time: ${parsed}; or give epoch milliseconds or YYYY-MM-DD (UTC)`);
  }
  return parsed;
}

function parseTime(value: TimeBound | undefined, field: string): number | null {
  if (value === undefined) return null;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) fail(field, 'is an invalid Date');
    return ms;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Math.abs(value) > MAX_TIME) fail(field, `${value} is not an epoch-millisecond time`);
    return value;
  }
  if (typeof value === 'string') return parseTimeText(value, field);
  return fail(field, `must be epoch milliseconds, an ISO-8601 string or a Date, got ${typeof value}`);
}

function checkLimit(value: unknown, field = 'limit'): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    fail(field, `must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function checkRange(from: number | null, to: number | null): void {
  if (from !== null && to !== null && to <= from) fail('to', 'must be after from (from is inclusive, to exclusive)');
}

/** A dimension being filtered on: its schema field, and the parameter that names it in errors. */
interface FilterTarget {
  readonly schema: EventSchema;
  readonly dimension: string;
  readonly field: FieldSpec;
  /** `filters.<dimension>` (JS API) or `<dimension>` (URL). */
  readonly parameter: string;
}

/**
 * Checks a typed filter value with core's own check of the dimension's schema
 * field (the one the validator applies to events), so a filter accepts exactly
 * the values an event may hold. `null` matches rows without the (optional) field.
 */
function checkDimensionValue(target: FilterTarget, value: unknown): DimensionValue {
  if (value === null) return null;
  const rejection = checkFieldValue(target.schema, target.dimension, value);
  if (rejection) {
    // Core's reasons start with the field's name; the parameter takes its place.
    const prefix = `${target.dimension} `;
    return fail(target.parameter, rejection.reason.startsWith(prefix) ? rejection.reason.slice(prefix.length) : rejection.reason);
  }
  return value as DimensionValue;
}

/** Turns one text value (from a URL) into the typed value of the dimension's field. */
function parseDimensionText(target: FilterTarget, text: string): DimensionValue {
  switch (target.field.type) {
    case 'integer':
      if (!/^-?[0-9]{1,16}$/.test(text)) return fail(target.parameter, `must be an integer, got ${JSON.stringify(clip(text))}`);
      return checkDimensionValue(target, Number(text));
    case 'boolean':
      if (text !== 'true' && text !== 'false') return fail(target.parameter, `must be true or false, got ${JSON.stringify(clip(text))}`);
      return text === 'true';
    default:
      return checkDimensionValue(target, text);
  }
}

function filterTarget(spec: ResolvedViewSpec, schema: EventSchema, dimension: string, parameter: string): FilterTarget {
  const field = schema.fields[dimension];
  if (!field) fail(dimension, `view ${spec.name} groups by ${dimension}, which is not a field of schema ${schema.name}`);
  // View specs only group by string, integer and boolean fields.
  if (field!.type !== 'string' && field!.type !== 'integer' && field!.type !== 'boolean') fail(parameter, `cannot filter on a ${field!.type} field`);
  return { schema, dimension, field: field!, parameter };
}

function unknownParameter(spec: ResolvedViewSpec, name: string): never {
  const dims = spec.dimensions.length > 0 ? `the dimensions of ${spec.name} (${spec.dimensions.join(', ')})` : `no dimension filters (${spec.name} has no dimensions)`;
  return fail(name, `unknown parameter; use from, to, limit and ${dims}`);
}

function finish(from: number | null, to: number | null, filters: DimensionFilter[], limit: number): NormalizedQuery {
  checkRange(from, to);
  filters.sort((a, b) => a.index - b.index);
  const key = [
    from ?? '',
    to ?? '',
    limit,
    ...filters.map((f) => `${f.dimension}=${JSON.stringify([...f.values].sort(compareValues))}`),
  ].join('|');
  return { from, to, filters, limit, key };
}

function compareValues(a: DimensionValue, b: DimensionValue): number {
  const x = JSON.stringify(a), y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Validates the options of the JS API `query(view, options)`. */
export function normalizeQuery(spec: ResolvedViewSpec, schema: EventSchema, options: QueryOptions = {}): NormalizedQuery {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object { from, to, filters, limit }');
  for (const name of Object.keys(options)) {
    if (!['from', 'to', 'filters', 'limit'].includes(name)) fail(name, 'unknown query option; use from, to, filters, limit');
  }
  const from = parseTime(options.from, 'from');
  const to = parseTime(options.to, 'to');
  const limit = checkLimit(options.limit);
  const filters: DimensionFilter[] = [];
  if (options.filters !== undefined) {
    if (typeof options.filters !== 'object' || options.filters === null) fail('filters', 'must be an object { dimension: value }');
    for (const [dimension, raw] of Object.entries(options.filters)) {
      const index = spec.dimensions.indexOf(dimension);
      if (index < 0) fail(`filters.${dimension}`, `not a dimension of ${spec.name}; its dimensions are ${spec.dimensions.join(', ') || '(none)'}`);
      const target = filterTarget(spec, schema, dimension, `filters.${dimension}`);
      const list = Array.isArray(raw) ? (raw as readonly unknown[]) : [raw];
      if (list.length === 0) fail(`filters.${dimension}`, 'lists no value');
      filters.push({
        dimension,
        index,
        values: new Set(list.map((value) => checkDimensionValue(target, value))),
      });
    }
  }
  return finish(from, to, filters, limit);
}

export type RawParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Validates URL query parameters: `from`, `to`, `limit` and one parameter per
 * dimension (repeat it to match any of several values). Anything else is an error.
 */
export function parseQueryParams(spec: ResolvedViewSpec, schema: EventSchema, params: RawParams): NormalizedQuery {
  const single = (name: string): string | undefined => {
    const value = params[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return fail(name, 'is given more than once');
    if (value === '') return fail(name, 'is empty');
    return value;
  };
  const from = ((v) => (v === undefined ? null : parseTimeText(v, 'from')))(single('from'));
  const to = ((v) => (v === undefined ? null : parseTimeText(v, 'to')))(single('to'));
  const limitText = single('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    if (!/^[0-9]{1,6}$/.test(limitText)) fail('limit', `must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(clip(limitText))}`);
    limit = checkLimit(Number(limitText));
  }
  const filters: DimensionFilter[] = [];
  for (const [name, raw] of Object.entries(params)) {
    if ((CONTROL_PARAMETERS as readonly string[]).includes(name) || raw === undefined) continue;
    const index = spec.dimensions.indexOf(name);
    if (index < 0) unknownParameter(spec, name);
    const target = filterTarget(spec, schema, name, name);
    const list = typeof raw === 'string' ? [raw] : raw;
    filters.push({ dimension: name, index, values: new Set(list.map((text) => parseDimensionText(target, text))) });
  }
  return finish(from, to, filters, limit);
}

function clip(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}
