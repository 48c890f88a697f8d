/**
 * The SQL twin of `makeEvent` + `planTime`: a DuckDB query producing exactly
 * the rows `generateEvents` yields for an index range of one day, computed
 * inside DuckDB so 50M rows never cross the Node bindings one value at a time.
 *
 * Every step mirrors a JS line in `event-model.ts` / `plan.ts`; keep them in
 * lock step (the Parquet tests compare both outputs row by row).
 */
import { SENSOR_CATEGORIES, SENSOR_STATUSES } from '@lambdaline/core';
import { STATUS_OK_BELOW, STATUS_WARNING_BELOW, type EventModel } from './event-model.js';
import { SALT, mixStepsSql, saltSql, weylSql } from './hash.js';
import type { DayPlan } from './plan.js';

/** How the `ts` column is stored. */
export type TimestampColumn = 'string' | 'timestamptz';

const FIELD_HASHES = {
  h_cat: SALT.category,
  h_v1: SALT.value1,
  h_v2: SALT.value2,
  h_st: SALT.status,
  h_t: SALT.time,
} as const;

const sqlList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

/** Applies each fmix step to all `columns` at once, one projection per step. */
function mixAll(query: string, columns: readonly string[]): string {
  let q = query;
  for (let step = 0; step < 5; step++) {
    const replaced = columns.map((c) => `${mixStepsSql(c)[step]} AS ${c}`).join(', ');
    q = `SELECT * REPLACE (${replaced}) FROM (${q})`;
  }
  return q;
}

/**
 * `SELECT event_id, ts, sensor_id, category, value1, value2, status` for the
 * events with index in [from, to) of `day` (which must contain that range).
 */
export function historyRowsSql(model: EventModel, day: DayPlan, from: number, to: number, tsColumn: TimestampColumn): string {
  const span = day.toMs - day.fromMs;
  // root = indexHash(i, seedKey)
  let q = mixAll(`SELECT range AS i, ${weylSql('range', model.seedKey)} AS root FROM range(${from}, ${to})`, ['root']);
  // sensor = 1 + scaleTo(root, sensors); the field hashes start as root ^ salt,
  // and the sensor baseline hash as sensor + sensorKey (mod 2^32).
  const sensor = `(1 + ((root * ${model.sensors}::UBIGINT) >> 32))`;
  const salted = Object.entries(FIELD_HASHES).map(([name, salt]) => `${saltSql('root', salt)} AS ${name}`);
  q = `SELECT i, ${sensor} AS sensor, ((${sensor} + ${model.sensorKey}::UBIGINT) & 4294967295::UBIGINT) AS h_sb, ${salted.join(', ')} FROM (${q})`;
  q = mixAll(q, ['h_sb', ...Object.keys(FIELD_HASHES)]);

  // planTime: fromMs + floor((j * span + h_t % span) / count), all BIGINT.
  const timeMs = `(${day.fromMs}::BIGINT + ((i - ${day.firstIndex}) * ${span}::BIGINT + (h_t % ${span})::BIGINT) // ${day.count}::BIGINT)`;
  const ts =
    tsColumn === 'string'
      ? `strftime(epoch_ms(${timeMs}), '%Y-%m-%dT%H:%M:%S.%gZ')`
      : // timezone('UTC', ts) reads a naive timestamp as UTC whatever the session time zone.
        `timezone('UTC', epoch_ms(${timeMs}))`;
  const cents = `(2000 + (h_sb % 6001)::BIGINT + ((h_v1 & 65535) % 1001)::BIGINT + ((h_v1 >> 16) % 1001)::BIGINT - 1000)`;
  const pStatus = `(h_st % 100)`;
  return `SELECT
  '${model.idBase}' || i::VARCHAR AS event_id,
  ${ts} AS ts,
  'sensor_' || sensor::VARCHAR AS sensor_id,
  ${sqlList(SENSOR_CATEGORIES)}[(h_cat & 3)::BIGINT + 1] AS category,
  ${cents}::DOUBLE / 100::DOUBLE AS value1,
  (1 + h_v2 % 99)::INTEGER AS value2,
  CASE WHEN ${pStatus} < ${STATUS_OK_BELOW} THEN '${SENSOR_STATUSES[0]}' WHEN ${pStatus} < ${STATUS_WARNING_BELOW} THEN '${SENSOR_STATUSES[1]}' ELSE '${SENSOR_STATUSES[2]}' END AS status
FROM (${q})`;
}
