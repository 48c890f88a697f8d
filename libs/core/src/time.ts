/**
 * Event time in lambdaline is always epoch milliseconds in UTC. Windows are
 * aligned to the Unix epoch, so a `1d` window starts at UTC midnight and a `5m`
 * window at :00, :05, ... whatever the machine's time zone.
 */
import { ConfigError } from './errors.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DAY_MS = UNIT_MS.d;

const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const daysInMonth = (year: number, month: number) => (month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!);

/** A window length such as `30s`, `5m`, `1h`, `1d`. */
export type Granularity = `${number}${keyof typeof UNIT_MS}`;

const GRANULARITY = /^([1-9][0-9]*)(s|m|h|d)$/;

/**
 * Parses a window length into milliseconds. Windows up to a day must divide the
 * day evenly (so every day starts a window); longer ones must be whole days.
 */
export function parseGranularity(value: string, field = 'window'): number {
  const match = GRANULARITY.exec(value);
  if (!match) {
    throw new ConfigError(
      `${field}: "${value}" is not a window length; use a positive integer and a unit s, m, h or d (e.g. "5m", "1h", "1d")`,
      field,
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms <= DAY_MS && DAY_MS % ms !== 0) {
    throw new ConfigError(`${field}: "${value}" does not divide a day evenly, so windows would drift across days`, field);
  }
  if (ms > DAY_MS && ms % DAY_MS !== 0) {
    throw new ConfigError(`${field}: "${value}" is longer than a day but not a whole number of days`, field);
  }
  return ms;
}

/** Start (inclusive) of the window of length `windowMs` holding `timeMs`. */
export function windowStartOf(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/** `YYYY-MM-DD` of the UTC day holding `timeMs`: the master dataset's partition key. */
export function utcDay(timeMs: number): string {
  return new Date(windowStartOf(timeMs, DAY_MS)).toISOString().slice(0, 10);
}

// ISO-8601 with a mandatory offset: local times without one are ambiguous.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO-8601 timestamp with an explicit offset (`Z` or `+hh:mm`) to epoch
 * ms. Returns a reason string instead of a number when it is not one, so callers
 * can report it: calendar-impossible dates (Feb 30) are refused, not rolled over.
 */
export function parseTimestamp(value: string): number | string {
  const m = ISO_TIMESTAMP.exec(value);
  if (!m) return 'not an ISO-8601 timestamp with a UTC offset (e.g. 2024-05-01T12:00:00Z)';
  const [, y, mo, d, h, mi, s = '00', frac = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12) return `month ${mo} is out of range`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${d} does not exist in ${y}-${mo}`;
  if (hour > 23 || minute > 59 || second > 59) return `time ${h}:${mi}:${s} is out of range`;
  let offsetMs = 0;
  if (zone !== 'Z') {
    const digits = zone!.replace(':', '');
    const sign = digits[0] === '-' ? -1 : 1;
    const oh = Number(digits.slice(1, 3)), om = Number(digits.slice(3, 5));
    if (oh > 23 || om > 59) return `offset ${zone} is out of range`;
    offsetMs = sign * (oh * 3_600_000 + om * 60_000);
  }
  const ms = Number((frac + '000').slice(0, 3));
  // Not Date.UTC: it maps years 0..99 to 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMs;
}

/** Epoch ms to the canonical ISO form used on the wire (`2024-05-01T12:00:00.000Z`). */
export function formatTimestamp(timeMs: number): string {
  return new Date(timeMs).toISOString();
}



/** The decimal number in text[from, to), or -1 if a character is not a digit. Module level: no closure per call. */
function digits(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Fast path for the canonical form `YYYY-MM-DDTHH:MM:SS.sssZ` (what
 * `toISOString` writes and what every lambdaline layer emits): epoch ms, or
 * NaN when the text is not exactly in that form or not a real instant, in
 * which case callers fall back to `parseTimestamp`. No allocation, no regex.
 */
export function canonicalTimestampMs(text: string): number {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */ || text.charCodeAt(10) !== 84 /* T */) return Number.NaN;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46) {
    return Number.NaN;
  }
  const year = digits(text, 0, 4), month = digits(text, 5, 7), day = digits(text, 8, 10);
  const hour = digits(text, 11, 13), minute = digits(text, 14, 16), second = digits(text, 17, 19), ms = digits(text, 20, 23);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) {
    return Number.NaN;
  }
  if (day > daysInMonth(year, month)) return Number.NaN;
  // Days since 1970-01-01 (proleptic Gregorian), without Date.
  const y = year - 1;
  const daysBeforeYear = 365 * (year - 1970) + (Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400)) - 477;
  const days = daysBeforeYear + CUMULATIVE_DAYS[month - 1]! + (month > 2 && isLeapYear(year) ? 1 : 0) + day - 1;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}
