/**
 * Checks for caller-supplied options. Each throws core's `ConfigError` naming
 * the parameter, so a typo in a benchmark script fails at the call with a
 * sentence instead of producing a silently odd data set.
 */
import { ConfigError, parseTimestamp } from '@lambdaline/core';

/** A point in time: a `Date`, epoch milliseconds, an ISO-8601 string with offset, or a `YYYY-MM-DD` UTC day. */
export type TimeInput = Date | number | string;

// Years 1970..9999: `toISOString` and DuckDB's strftime agree on that range and
// nothing before the epoch is worth generating.
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function toEpochMs(value: TimeInput, field: string): number {
  let ms: number;
  if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseTimestamp(`${value}T00:00:00Z`) : parseTimestamp(value);
    if (typeof parsed === 'string') throw new ConfigError(`${field}: ${JSON.stringify(value)} ${parsed}`, field);
    ms = parsed;
  } else {
    throw new ConfigError(`${field}: must be a Date, epoch milliseconds or an ISO-8601 string`, field);
  }
  if (!Number.isInteger(ms) || ms < MIN_TIME || ms > MAX_TIME) {
    throw new ConfigError(`${field}: must be a whole millisecond between 1970-01-01 and 9999-12-31, got ${String(value)}`, field);
  }
  return ms;
}

export function checkInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${field}: must be an integer in ${min}..${max}, got ${String(value)}`, field);
  }
  return value;
}

/** A non-negative integer, or `Infinity` when `allowInfinity`. */
export function checkCount(value: unknown, field: string, allowInfinity: boolean): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${field}: must be a non-negative integer${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`, field);
  }
  return value;
}

/** A share of messages, 0..1. */
export function checkShare(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${field}: must be a share between 0 and 1, got ${String(value)}`, field);
  }
  return value;
}

/** A finite duration in milliseconds, >= 0. */
export function checkDuration(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${field}: must be a finite number of milliseconds >= 0, got ${String(value)}`, field);
  }
  return value;
}

export function checkPositive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${field}: must be a finite number > 0, got ${String(value)}`, field);
  }
  return value;
}

const ID_PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

export function checkIdPrefix(value: unknown, field = 'idPrefix'): string {
  if (typeof value !== 'string' || !ID_PREFIX.test(value)) {
    throw new ConfigError(`${field}: must be 1..64 characters among letters, digits, _ . : -, got ${JSON.stringify(value)}`, field);
  }
  return value;
}
