/**
 * Seeded sensor events for tests and the benchmark (the default domain's
 * schema), with optional malformed, invalid and late ones. Independent of
 * @lambdaline/generators so the speed layer can be tested on its own.
 */
import { SENSOR_CATEGORIES, SENSOR_STATUSES } from '@lambdaline/core';
import { mulberry32 } from '../../../../tools/testing/random.ts';

export { mulberry32 };

export interface GenOptions {
  readonly seed?: number;
  /** First event time, epoch ms. */
  readonly start?: number;
  /** Mean gap between consecutive event times, ms. */
  readonly stepMs?: number;
  /** Event times jitter backwards by up to this (in-order-ish streams). */
  readonly jitterMs?: number;
  readonly sensors?: number;
  /** Fractions of bad records. */
  readonly malformed?: number;
  readonly invalid?: number;
  /** Fraction of events with a time far in the past (too late for any sane lateness). */
  readonly late?: number;
  /** How far back a late event is, ms. */
  readonly lateByMs?: number;
}

export const T0 = Date.UTC(2024, 4, 1, 0, 0, 0);

/** An endless generator of JSON message values. */
export function* sensorMessages(options: GenOptions = {}): Generator<string> {
  const rnd = mulberry32(options.seed ?? 1);
  const step = options.stepMs ?? 1_000;
  const jitter = options.jitterMs ?? 0;
  const sensors = options.sensors ?? 20;
  let clock = options.start ?? T0;
  for (let i = 0; ; i++) {
    clock += Math.floor(rnd() * 2 * step);
    const r = rnd();
    if (options.malformed && r < options.malformed) {
      yield `{"event_id":"m-${i}","ts":`;
      continue;
    }
    let t = clock - Math.floor(rnd() * jitter);
    if (options.late && rnd() < options.late) t = clock - (options.lateByMs ?? 6 * 3_600_000);
    const event: Record<string, unknown> = {
      event_id: `e-${options.seed ?? 1}-${i}`,
      ts: new Date(t).toISOString(),
      sensor_id: `sensor_${1 + Math.floor(rnd() * sensors)}`,
      category: SENSOR_CATEGORIES[Math.floor(rnd() * SENSOR_CATEGORIES.length)],
      value1: Math.round(rnd() * 100_000) / 100,
      value2: 1 + Math.floor(rnd() * 99),
      status: SENSOR_STATUSES[Math.floor(rnd() * SENSOR_STATUSES.length)],
    };
    if (options.invalid && rnd() < options.invalid) {
      if (rnd() < 0.5) event.value2 = 150;
      else event.category = 'Z';
    }
    yield JSON.stringify(event);
  }
}

export function take<T>(gen: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(gen.next().value as T);
  return out;
}
