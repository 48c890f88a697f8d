/**
 * Where a run's events fall in time. A run is cut at UTC midnights into day
 * segments (the master dataset's partitions); each segment gets a share of the
 * events proportional to its length, and event `j` of a segment of `k` events
 * lands at a random instant inside the `j`-th of `k` equal slots. So history is
 * in event-time order (non-decreasing with the index), spread irregularly, and
 * every event's day is known without generating it — the Parquet writer can
 * produce each day (and each file) on its own.
 */
import { ConfigError, DAY_MS, assertParam, formatTimestamp, utcDay, windowStartOf } from '@lambdaline/core';
import { MAX_INDEX } from './event-model.js';
import { SALT, fieldHash } from './hash.js';
import { checkCount, checkPositive, toEpochMs, type TimeInput } from './options.js';

export interface TimeRangeOptions {
  /** Start of the range, inclusive. Default: `to - days`, or 2024-01-01T00:00:00Z. */
  readonly from?: TimeInput;
  /** End of the range, exclusive. Default: `from + days`. */
  readonly to?: TimeInput;
  /** Length of the range in days when only one of `from`/`to` is given. Default 1. */
  readonly days?: number;
  /** Total number of events. Give this or `eventsPerDay`. */
  readonly count?: number;
  /** Events per 24 h of range. Default 10,000 (when `count` is not given). */
  readonly eventsPerDay?: number;
}

/** One UTC day of a run (or part of one, at the ends of the range). */
export interface DayPlan {
  /** `YYYY-MM-DD`, the partition key. */
  readonly day: string;
  /** Epoch ms, inclusive. */
  readonly fromMs: number;
  /** Epoch ms, exclusive. */
  readonly toMs: number;
  /** Index of the day's first event. */
  readonly firstIndex: number;
  readonly count: number;
}

export interface RangePlan {
  readonly fromMs: number;
  readonly toMs: number;
  readonly total: number;
  /** Only days holding at least one event, in time order. */
  readonly days: readonly DayPlan[];
}

/** 2024-01-01T00:00:00Z: the default start, so a run never depends on the clock unless asked to. */
export const DEFAULT_FROM_MS = Date.UTC(2024, 0, 1);
export const DEFAULT_EVENTS_PER_DAY = 10_000;
/**
 * Slot arithmetic (`j * dayLength + r`) must stay an exact integer in a double
 * (< 2^53) for JS and DuckDB to agree: 10^8 events per day keeps it below.
 */
export const MAX_EVENTS_PER_DAY = 100_000_000;

export function planRange(options: TimeRangeOptions, startIndex: number): RangePlan {
  const { from, to, days } = options;
  assertParam(from === undefined || to === undefined || days === undefined, 'days', 'give at most two of from, to and days');
  const spanOfDays = days === undefined ? DAY_MS : Math.round(checkPositive(days, 'days') * DAY_MS);
  let fromMs: number;
  let toMs: number;
  if (from !== undefined) {
    fromMs = toEpochMs(from, 'from');
    toMs = to !== undefined ? toEpochMs(to, 'to') : fromMs + spanOfDays;
  } else if (to !== undefined) {
    toMs = toEpochMs(to, 'to');
    fromMs = toMs - spanOfDays;
  } else {
    fromMs = DEFAULT_FROM_MS;
    toMs = fromMs + spanOfDays;
  }
  if (!(fromMs < toMs)) {
    throw new ConfigError(
      `to: must be after from (from ${formatTimestamp(fromMs)}, to ${formatTimestamp(toMs)})`,
      from !== undefined && to !== undefined ? 'to' : 'days',
    );
  }
  toEpochMs(fromMs, 'from');
  toEpochMs(toMs, 'to');

  assertParam(options.count === undefined || options.eventsPerDay === undefined, 'count', 'give count or eventsPerDay, not both');
  const span = toMs - fromMs;
  const countField = options.count !== undefined ? 'count' : 'eventsPerDay';
  const total =
    options.count !== undefined
      ? checkCount(options.count, 'count', false)
      : Math.round(checkCount(options.eventsPerDay ?? DEFAULT_EVENTS_PER_DAY, 'eventsPerDay', false) * (span / DAY_MS));
  assertParam(startIndex + total - 1 <= MAX_INDEX, countField, 'startIndex + number of events must not exceed 2^32 (event indices are 32-bit)');

  // Cumulative floor in BigInt: every split is exact and the days add up to `total`.
  const dayPlans: DayPlan[] = [];
  const bigTotal = BigInt(total);
  const bigSpan = BigInt(span);
  let assigned = 0;
  for (let start = fromMs; start < toMs && assigned < total; ) {
    const end = Math.min(toMs, windowStartOf(start, DAY_MS) + DAY_MS);
    const upTo = Number((bigTotal * BigInt(end - fromMs)) / bigSpan);
    const count = upTo - assigned;
    if (count > MAX_EVENTS_PER_DAY) {
      throw new ConfigError(`${countField}: at most ${MAX_EVENTS_PER_DAY} events per UTC day (day ${utcDay(start)} would get ${count})`, countField);
    }
    if (count > 0) dayPlans.push({ day: utcDay(start), fromMs: start, toMs: end, firstIndex: startIndex + assigned, count });
    assigned = upTo;
    start = end;
  }
  return { fromMs, toMs, total, days: dayPlans };
}

/**
 * Event time of the event at `index` of `day`: a random instant inside its
 * slot. `root` is the event's root hash. Integer arithmetic only (the SQL twin
 * is in `history-sql.ts`); `a - a % k` keeps the floor division exact.
 */
export function planTime(day: DayPlan, index: number, root: number): number {
  const span = day.toMs - day.fromMs;
  const j = index - day.firstIndex;
  const a = j * span + (fieldHash(root, SALT.time) % span);
  return day.fromMs + (a - (a % day.count)) / day.count;
}
