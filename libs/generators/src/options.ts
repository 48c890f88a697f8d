/**
 * Checks for caller-supplied options. Each throws core's `ConfigError` naming
 * the parameter, so a typo in a benchmark script fails at the call with a
 * sentence instead of producing a silently odd data set.
 */
import { assertParam, parseTimestamp } from '@lambdaline/core';

/** A point in time: a `Date`, epoch milliseconds, an ISO-8601 string with offset, or a `YYYY-MM-DD` UTC day. */
export type TimeInput = Date | number | string;

// Years 1970..9999: `toISOString` and DuckDB's strftime agree on that range and
// nothing before the epoch is worth generating.
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function toEpochMs(value: TimeInput, field: string): number {
  assertParam(value instanceof Date || typeof value === 'number' || typeof value === 'string', field, 'must be a Date, epoch milliseconds or an ISO-8601 string');
  let ms: number;
  if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'number') {
    ms = value;
  } else {
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseTimestamp(`${value}T00:00:00Z`) : parseTimestamp(value);
    assertParam(typeof parsed === 'number', field, `${JSON.stringify(value)} ${parsed}`);
    ms = parsed;
  }
  assertParam(Number.isInteger(ms) && ms >= MIN_TIME && ms <= MAX_TIME, field, `must be a whole millisecond between 1970-01-01 and 9999-12-31, got ${String(value)}`);
  return ms;
}

export function checkInt(value: unknown, field: string, min: number, max: number): number {
  assertParam(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max, field, `must be an integer in ${min}..${max}, got ${String(value)}`);
  return value;
}

/** A non-negative integer, or `Infinity` when `allowInfinity`. */
export function checkCount(value: unknown, field: string, allowInfinity: boolean): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  assertParam(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, field, `must be a non-negative integer${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`);
  return value;
}

/** A share of messages, 0..1. */
export function checkShare(value: unknown, field: string): number {
  assertParam(typeof value === 'number' && value >= 0 && value <= 1, field, `must be a share between 0 and 1, got ${String(value)}`);
  return value;
}

/** A finite duration in milliseconds, >= 0. */
export function checkDuration(value: unknown, field: string): number {
  assertParam(typeof value === 'number' && Number.isFinite(value) && value >= 0, field, `must be a finite number of milliseconds >= 0, got ${String(value)}`);
  return value;
}

export function checkPositive(value: unknown, field: string): number {
  assertParam(typeof value === 'number' && Number.isFinite(value) && value > 0, field, `must be a finite number > 0, got ${String(value)}`);
  return value;
}

const ID_PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

export function checkIdPrefix(value: unknown, field = 'idPrefix'): string {
  assertParam(typeof value === 'string' && ID_PREFIX.test(value), field, `must be 1..64 characters among letters, digits, _ . : -, got ${JSON.stringify(value)}`);
  return value;
}
