import { ConfigError } from '@lambdaline/core';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(0|[1-9][0-9]*)(ms|s|m|h|d)$/;

/** A duration: milliseconds, or a string such as `"500ms"`, `"90s"`, `"10m"`, `"1h"`, `"2d"`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Parses a `Duration` to milliseconds; throws a `ConfigError` naming `field` otherwise. */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${field}: must be a non-negative number of milliseconds, got ${value}`, field);
    return value;
  }
  if (typeof value === 'string') {
    const m = DURATION.exec(value.trim());
    if (m) return Number(m[1]) * UNITS[m[2]!]!;
  }
  throw new ConfigError(`${field}: ${JSON.stringify(value)} is not a duration; use milliseconds or a string such as "30s", "10m", "1h", "2d"`, field);
}

/** `3600000` → `"1h"`, for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
