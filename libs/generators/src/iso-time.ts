/**
 * Core's `formatTimestamp` (`new Date(ms).toISOString()`), faster. Formatting
 * the timestamp was most of the cost of generating an event; events come in
 * time order, so the date part is cached per UTC day and the time of day is
 * assembled from lookup tables.
 */
import { DAY_MS, utcDay, windowStartOf } from '@lambdaline/core';

const pad = (width: number, count: number) => Array.from({ length: count }, (_, i) => String(i).padStart(width, '0'));
const TWO = pad(2, 60);
const THREE = pad(3, 1000);

let cachedDayStart = Number.NaN;
let cachedPrefix = '';

/** Canonical ISO-8601 UTC (`2024-05-01T12:00:00.000Z`) of an integer epoch-ms time, years 0000..9999. */
export function isoTime(ms: number): string {
  const dayStart = windowStartOf(ms, DAY_MS);
  if (dayStart !== cachedDayStart) {
    cachedPrefix = `${utcDay(dayStart)}T`;
    cachedDayStart = dayStart;
  }
  let rest = ms - dayStart;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${cachedPrefix}${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[rest - s * 1000]}Z`;
}
