/**
 * What one generated sensor event looks like, as a pure function of
 * (seed, index, event time). Everything that is not time comes from here, for
 * history, for live streams and (through its SQL twin in `history-sql.ts`) for
 * Parquet files.
 *
 * The shapes are chosen so the two default views have something to show:
 * every sensor has its own baseline for `value1` (so `sensor_5min` rows differ
 * per sensor) with triangular noise of ±10 around it; categories are uniform;
 * statuses are mostly OK (85% OK, 12% WARNING, 3% ERROR).
 */
import { SENSOR_CATEGORIES, SENSOR_STATUSES } from '@lambdaline/core';
import { SALT, fieldHash, indexHash, mix32, normalizeSeed, scaleTo, seedHex, seedKeyOf } from './hash.js';
import { isoTime } from './iso-time.js';
import { checkIdPrefix, checkInt } from './options.js';

export type SensorCategory = (typeof SENSOR_CATEGORIES)[number];
export type SensorStatus = (typeof SENSOR_STATUSES)[number];

/**
 * A valid event of core's `sensorEventSchema`, fields in schema order. A type
 * alias (not an interface) so it is assignable to core's `LambdaEvent`.
 */
export type SensorEvent = {
  readonly event_id: string;
  /** Event time, canonical ISO-8601 UTC (`2024-05-01T12:00:00.000Z`). */
  readonly ts: string;
  /** `sensor_1` .. `sensor_<sensors>`. */
  readonly sensor_id: string;
  readonly category: SensorCategory;
  /** Two decimals: the sensor's baseline (20..80) ± 10. */
  readonly value1: number;
  /** Integer 1..99, uniform. */
  readonly value2: number;
  readonly status: SensorStatus;
};

/** What the content of the events depends on. */
export interface EventOptions {
  /** Same seed, same events. Integer 0..2^32-1 or any string. Default 0. */
  readonly seed?: number | string;
  /** Number of distinct sensors (`sensor_1`..`sensor_N`), 1..1,000,000. Default 100. */
  readonly sensors?: number;
  /** First part of every `event_id` (`<idPrefix>-<seed hex>-<index>`). */
  readonly idPrefix?: string;
  /**
   * Index of the first event. Indices make event ids unique, so a second run
   * with the same seed that continues at `startIndex` = the first run's count
   * adds new events instead of repeating the first ones. Default 0.
   */
  readonly startIndex?: number;
}

export const DEFAULT_SENSORS = 100;
export const MAX_SENSORS = 1_000_000;
/** Indices are hashed as uint32: a run holds at most 2^32 events. */
export const MAX_INDEX = 0xffffffff;

// Status thresholds over a uniform 0..99.
export const STATUS_OK_BELOW = 85;
export const STATUS_WARNING_BELOW = 97;

/** The resolved, validated parameters every event function takes. */
export interface EventModel {
  readonly seed: number;
  readonly seedKey: number;
  readonly sensorKey: number;
  readonly sensors: number;
  /** `<idPrefix>-<seed hex>-`; the index follows. */
  readonly idBase: string;
  readonly startIndex: number;
}

export function resolveEventModel(options: EventOptions, defaultPrefix: string): EventModel {
  const seed = normalizeSeed(options.seed);
  const seedKey = seedKeyOf(seed);
  const sensors = checkInt(options.sensors ?? DEFAULT_SENSORS, 'sensors', 1, MAX_SENSORS);
  const prefix = checkIdPrefix(options.idPrefix ?? defaultPrefix);
  const startIndex = checkInt(options.startIndex ?? 0, 'startIndex', 0, MAX_INDEX);
  return { seed, seedKey, sensorKey: fieldHash(seedKey, SALT.sensorBase), sensors, idBase: `${prefix}-${seedHex(seed)}-`, startIndex };
}

/** The sensor number (1..N) of the event whose root hash is `root`. */
export function sensorOf(model: EventModel, root: number): number {
  return 1 + scaleTo(root, model.sensors);
}

/** Per-sensor baseline of value1 in cents: 2000..8000. */
export function sensorBaseCents(model: EventModel, sensor: number): number {
  return 2000 + (mix32((sensor + model.sensorKey) >>> 0) % 6001);
}

/**
 * Event `index` at `timeMs`. `root` is `indexHash(index, seedKey)`, passed in
 * when the caller already has it.
 */
export function makeEvent(model: EventModel, index: number, timeMs: number, root = indexHash(index, model.seedKey)): SensorEvent {
  const sensor = sensorOf(model, root);
  const hv = fieldHash(root, SALT.value1);
  // Two 16-bit halves make a triangular noise of -1000..+1000 cents. Integer
  // cents divided once by 100 give the same double in JS and in DuckDB.
  const cents = sensorBaseCents(model, sensor) + ((hv & 0xffff) % 1001) + ((hv >>> 16) % 1001) - 1000;
  const pStatus = fieldHash(root, SALT.status) % 100;
  return {
    event_id: model.idBase + index,
    ts: isoTime(timeMs),
    sensor_id: `sensor_${sensor}`,
    category: SENSOR_CATEGORIES[fieldHash(root, SALT.category) & 3]!,
    value1: cents / 100,
    value2: 1 + (fieldHash(root, SALT.value2) % 99),
    status: SENSOR_STATUSES[pStatus < STATUS_OK_BELOW ? 0 : pStatus < STATUS_WARNING_BELOW ? 1 : 2]!,
  };
}
