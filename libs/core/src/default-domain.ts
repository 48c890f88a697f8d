/**
 * The default domain: sensor events joining the two schemas of the original
 * Spark pipeline, and its two views: the original batch job (`daily_by_category`)
 * and the original speed job (`sensor_5min`, now on event time).
 */
import type { EventSchema } from './event-schema.js';
import type { ViewSpec } from './view-spec.js';

export const SENSOR_CATEGORIES = ['A', 'B', 'C', 'D'] as const;
export const SENSOR_STATUSES = ['OK', 'WARNING', 'ERROR'] as const;

export const sensorEventSchema: EventSchema = {
  name: 'sensor_event',
  timeField: 'ts',
  idField: 'event_id',
  fields: {
    event_id: { type: 'string', maxLength: 128 },
    ts: { type: 'timestamp' },
    sensor_id: { type: 'string', pattern: 'sensor_[1-9][0-9]*' },
    category: { type: 'string', enum: SENSOR_CATEGORIES },
    value1: { type: 'number' },
    value2: { type: 'integer', min: 1, max: 99 },
    status: { type: 'string', enum: SENSOR_STATUSES },
  },
};

export const dailyByCategoryView: ViewSpec = {
  name: 'daily_by_category',
  description: 'Per UTC day and category: average value1, average value2 and the number of records (the original batch job).',
  window: '1d',
  dimensions: ['category'],
  measures: [
    { name: 'avg_value1', op: 'avg', field: 'value1' },
    { name: 'avg_value2', op: 'avg', field: 'value2' },
    { name: 'record_count', op: 'count' },
  ],
};

export const sensor5minView: ViewSpec = {
  name: 'sensor_5min',
  description: 'Per 5-minute event-time window and sensor: average, minimum and maximum value1 and the number of messages (the original speed job).',
  window: '5m',
  dimensions: ['sensor_id'],
  measures: [
    { name: 'avg_value1', op: 'avg', field: 'value1' },
    { name: 'min_value1', op: 'min', field: 'value1' },
    { name: 'max_value1', op: 'max', field: 'value1' },
    { name: 'message_count', op: 'count' },
  ],
};

export const defaultViews: readonly ViewSpec[] = [dailyByCategoryView, sensor5minView];

/** A schema with the views over it: what every layer is configured with. */
export interface Domain {
  readonly schema: EventSchema;
  readonly views: readonly ViewSpec[];
}

export const defaultDomain: Domain = { schema: sensorEventSchema, views: defaultViews };
