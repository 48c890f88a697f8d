/**
 * Parsers for every flag value. Each throws commander's `InvalidArgumentError`
 * with a sentence saying what is expected; commander prefixes it with the
 * flag's name (`error: option '--port <port>' argument 'x' is invalid. ...`)
 * and the CLI exits with code 2.
 */
import { InvalidArgumentError } from 'commander';

const DURATION = /^(0|[1-9][0-9]*)(ms|s|m|h|d)?$/;
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `5m`, `1h`, `2d`, `500ms`, or plain milliseconds. */
export function parseDurationMs(value: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 5m, 1h or 2d.');
  return Number(m[1]) * UNITS[m[2] ?? 'ms']!;
}

/** A duration of at least `minMs`. */
export function durationAtLeast(minMs: number, label: string): (value: string) => number {
  return (value) => {
    const ms = parseDurationMs(value);
    if (ms < minMs) throw new InvalidArgumentError(`must be at least ${label}.`);
    return ms;
  };
}

export function parseIntegerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim().replaceAll('_', '');
    if (!/^-?[0-9]+$/.test(text)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

/** A count that may be `inf` / `infinity` (unbounded). */
export function parseCount(value: string): number {
  if (/^(inf|infinity|unlimited)$/i.test(value.trim())) return Number.POSITIVE_INFINITY;
  return parseIntegerIn(0, 2 ** 32 - 1)(value);
}

/** A share: a number from 0 to 1, or a percentage (`2%`). */
export function parseShare(value: string): number {
  const text = value.trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  if (text === '' || text === '%' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a share from 0 to 1 (e.g. 0.02) or a percentage (e.g. 2%).');
  const share = percent ? n / 100 : n;
  if (share < 0 || share > 1) throw new InvalidArgumentError('expected a share from 0 to 1 (e.g. 0.02) or a percentage (e.g. 2%).');
  return share;
}

/** Events per second, > 0 (or `max` for as fast as possible). */
export function parseRate(value: string): number {
  if (/^(max|unlimited|inf|infinity)$/i.test(value.trim())) return Number.POSITIVE_INFINITY;
  const n = Number(value.trim());
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected events per second (a positive number), or "max".');
  return n;
}

export function parsePort(value: string): number {
  const text = value.trim();
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n > 65_535) throw new InvalidArgumentError('expected a TCP port from 0 to 65535 (0 = any free port).');
  return n;
}

/** `host:port[,host:port...]`. */
export function parseBrokers(value: string): string[] {
  const list = value.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (list.length === 0) throw new InvalidArgumentError('expected host:port, or several separated by commas.');
  for (const broker of list) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):([0-9]+)$/.exec(broker);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) throw new InvalidArgumentError(`${JSON.stringify(broker)} is not host:port.`);
  }
  return list;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export function parseTopic(value: string): string {
  const topic = value.trim();
  if (!TOPIC.test(topic) || topic === '.' || topic === '..') {
    throw new InvalidArgumentError('expected a Kafka topic name: 1 to 249 letters, digits, ".", "_" or "-".');
  }
  return topic;
}

/** A topic, or `none` to turn the thing off. */
export function parseTopicOrNone(value: string): string | null {
  return value.trim().toLowerCase() === 'none' ? null : parseTopic(value);
}

/** A consumer-group prefix. */
export function parseGroup(value: string): string {
  const group = value.trim();
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(group)) throw new InvalidArgumentError('expected a consumer group prefix: 1 to 200 letters, digits, ".", "_" or "-".');
  return group;
}

export function parseHost(value: string): string {
  const host = value.trim();
  if (host === '' || /[\s/]/.test(host)) throw new InvalidArgumentError('expected a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::).');
  return host;
}

export function parseNonEmpty(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`expected ${what}.`);
    return value;
  };
}

/** A seed: an integer 0..2^32-1 or any non-empty text (the generators hash text). */
export function parseSeed(value: string): number | string {
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('expected an integer from 0 to 4294967295, or a word.');
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n > 2 ** 32 - 1) throw new InvalidArgumentError('expected an integer from 0 to 4294967295, or a word.');
    return n;
  }
  return text;
}

/** `YYYY-MM-DD` (UTC midnight) or ISO-8601 with an offset, to epoch ms. */
export function parseTime(value: string): number {
  const text = value.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = day ? Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected a date YYYY-MM-DD (UTC) or an ISO-8601 time with an offset (2024-05-01T12:00:00Z).');
  return ms;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
