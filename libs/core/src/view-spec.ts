/**
 * One view definition drives both layers: the batch layer compiles it to SQL,
 * the speed layer folds it incrementally, the serving layer merges and
 * finalises it. A `ViewSpec` is plain data so it can live in a config file.
 */
import { ViewSpecError } from './errors.js';
import type { EventSchema } from './event-schema.js';
import { MEASURE_OPS, type MeasureOp } from './measures.js';
import { parseGranularity } from './time.js';

export interface MeasureSpec {
  /** Column name in answers, e.g. `avg_value1`. */
  readonly name: string;
  readonly op: MeasureOp;
  /** The numeric field aggregated. Optional for `count` (then every event counts). */
  readonly field?: string;
}

export interface ViewSpec {
  /** Identifier used in URLs, file names and SQL: lower-case letters, digits, `_`. */
  readonly name: string;
  readonly description?: string;
  /** Event-time field bucketed into windows: the schema's `timeField` (the default; no other is accepted). */
  readonly timeField?: string;
  /** Window length: `5m`, `1h`, `1d`, ... (UTC, epoch aligned). */
  readonly window: string;
  /** Fields grouped by, in answer order. May be empty (one row per window). */
  readonly dimensions: readonly string[];
  readonly measures: readonly MeasureSpec[];
}

/** A validated spec with its derived values resolved once. */
export interface ResolvedViewSpec extends ViewSpec {
  readonly timeField: string;
  readonly windowMs: number;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const RESERVED = new Set(['window_start', 'window_end']);

/**
 * Validates a spec (typically parsed from a config file) against a schema and
 * resolves its defaults. Throws a `ViewSpecError` whose `field` is the path of
 * the first problem, e.g. `views[1].measures[0].field`.
 */
export function validateViewSpec(input: unknown, schema: EventSchema, path = 'view'): ResolvedViewSpec {
  const fail = (at: string, why: string): never => {
    throw new ViewSpecError(`${path}${at}: ${why}`, `${path}${at}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('', 'must be an object');
  const spec = input as Record<string, unknown>;
  if (typeof spec.name !== 'string' || !NAME.test(spec.name)) {
    fail('.name', 'must be lower-case letters, digits and _ , starting with a letter (it is used in URLs and SQL)');
  }
  const timeField = spec.timeField === undefined ? schema.timeField : spec.timeField;
  if (typeof timeField !== 'string' || schema.fields[timeField]?.type !== 'timestamp') {
    fail('.timeField', `must name a timestamp field of schema ${schema.name}`);
  }
  if (timeField !== schema.timeField) {
    // Windows, the speed layer's lateness and retention, and the horizon's max event
    // time all run on one event time; a view on another clock could not be kept exact.
    fail('.timeField', `must be the schema's event-time field ${schema.timeField} (got ${timeField as string}); every layer windows on one event time`);
  }
  if (typeof spec.window !== 'string') fail('.window', 'must be a window length such as "5m", "1h" or "1d"');
  let windowMs = 0;
  try {
    windowMs = parseGranularity(spec.window as string, `${path}.window`);
  } catch (error) {
    throw new ViewSpecError((error as Error).message, `${path}.window`);
  }
  if (!Array.isArray(spec.dimensions)) fail('.dimensions', 'must be an array of field names (may be empty)');
  const dimensions = spec.dimensions as unknown[];
  const seen = new Set<string>();
  dimensions.forEach((dim, i) => {
    const field = typeof dim === 'string' ? schema.fields[dim] : undefined;
    if (typeof dim !== 'string' || !field) fail(`.dimensions[${i}]`, `${JSON.stringify(dim)} is not a field of schema ${schema.name}`);
    if (field!.type === 'number' || field!.type === 'timestamp') {
      fail(`.dimensions[${i}]`, `${dim as string} is a ${field!.type} field; group by string, integer or boolean fields (time is grouped by window)`);
    }
    if (seen.has(dim as string)) fail(`.dimensions[${i}]`, `${dim as string} is listed twice`);
    seen.add(dim as string);
  });
  if (!Array.isArray(spec.measures) || spec.measures.length === 0) fail('.measures', 'must list at least one measure');
  (spec.measures as unknown[]).forEach((m, i) => {
    const at = `.measures[${i}]`;
    if (typeof m !== 'object' || m === null) fail(at, 'must be an object { name, op, field }');
    const measure = m as Record<string, unknown>;
    if (typeof measure.name !== 'string' || !NAME.test(measure.name)) fail(`${at}.name`, 'must be lower-case letters, digits and _');
    if (RESERVED.has(measure.name as string)) fail(`${at}.name`, `${measure.name as string} is reserved`);
    if (seen.has(measure.name as string)) fail(`${at}.name`, `${measure.name as string} is already used by a dimension or measure`);
    seen.add(measure.name as string);
    if (!MEASURE_OPS.includes(measure.op as MeasureOp)) fail(`${at}.op`, `must be one of ${MEASURE_OPS.join(', ')}`);
    if (measure.field === undefined) {
      if (measure.op !== 'count') fail(`${at}.field`, `is required for ${measure.op as string}`);
      return;
    }
    const field = typeof measure.field === 'string' ? schema.fields[measure.field] : undefined;
    if (!field) fail(`${at}.field`, `${JSON.stringify(measure.field)} is not a field of schema ${schema.name}`);
    if (measure.op !== 'count' && field!.type !== 'number' && field!.type !== 'integer') {
      fail(`${at}.field`, `${measure.op as string} needs a number or integer field, ${measure.field as string} is ${field!.type}`);
    }
  });
  if (spec.description !== undefined && typeof spec.description !== 'string') fail('.description', 'must be a string');
  return { ...(spec as unknown as ViewSpec), timeField: timeField as string, windowMs };
}

/** Validates a list of specs and checks their names are unique. */
export function validateViewSpecs(input: unknown, schema: EventSchema, path = 'views'): ResolvedViewSpec[] {
  if (!Array.isArray(input) || input.length === 0) throw new ViewSpecError(`${path}: must list at least one view`, path);
  const names = new Set<string>();
  return input.map((spec, i) => {
    const resolved = validateViewSpec(spec, schema, `${path}[${i}]`);
    if (names.has(resolved.name)) throw new ViewSpecError(`${path}[${i}].name: ${resolved.name} is defined twice`, `${path}[${i}].name`);
    names.add(resolved.name);
    return resolved;
  });
}
