/**
 * Turning a valid event into a message core rejects with one known code.
 *
 * Each corruption changes exactly one thing of an otherwise valid event, so
 * the code `parseEvent(sensorEventSchema, raw)` returns is fully determined:
 * `validateEvent` checks fields in schema order and stops at the first problem,
 * and there is only one. Variants within a kind mimic bugs seen in real
 * producers (double-encoded JSON, numbers sent as strings, local times without
 * an offset, a truncated write...).
 */
import { REJECTION_CODES, type RejectionCode } from '@lambdaline/core';
import type { SensorEvent } from './event-model.js';

/** Every rejection code a single message can earn on its own (`too_late` depends on the stream). */
export type MalformedKind = Exclude<RejectionCode, 'too_late'>;

/**
 * Core's rejection codes but `too_late`, in core's order. A code core adds
 * shows up here (and `corrupt` no longer type-checks until it makes one).
 */
export const MALFORMED_KINDS: readonly MalformedKind[] = REJECTION_CODES.filter((code): code is MalformedKind => code !== 'too_late');

export interface Corruption {
  readonly raw: string;
  /** The field core will name in its rejection, when it names one. */
  readonly field?: string;
}

const FIELDS = ['event_id', 'ts', 'sensor_id', 'category', 'value1', 'value2', 'status'] as const;
// Placeholder replaced in the JSON text by a number JSON.stringify cannot write.
const HUGE_NUMBER = '__lambdaline_huge_number__';

/** `event` as JSON with `changes` applied (`undefined` deletes the field). */
function withFields(event: SensorEvent, changes: Record<string, unknown>): string {
  const record: Record<string, unknown> = { ...event, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete record[k];
  // 1e999 parses to Infinity: a JSON number that is valid syntax but not finite.
  return JSON.stringify(record).replace(`"${HUGE_NUMBER}"`, '1e999');
}

const pick = <T>(items: readonly T[], h: number): T => items[h % items.length]!;

/**
 * A message carrying `event` that core rejects with `kind`. `v` (a uint32
 * hash) chooses the variant.
 */
export function corrupt(kind: MalformedKind, event: SensorEvent, v: number): Corruption {
  switch (kind) {
    case 'malformed_json': {
      const json = JSON.stringify(event);
      return {
        raw: pick(
          [
            // A proper prefix of a JSON object is never valid JSON.
            () => json.slice(0, 1 + (v % (json.length - 1))),
            () => `${json}}`,
            () => json.replaceAll('"', "'"),
            () => '',
            () => `${event.sensor_id};${event.ts};${event.category};${event.value1};${event.value2};${event.status}`,
          ],
          v,
        )(),
      };
    }
    case 'not_an_object': {
      const json = JSON.stringify(event);
      return { raw: pick([() => `[${json}]`, () => JSON.stringify(json), () => 'null', () => String(event.value2)], v)() };
    }
    case 'missing_field': {
      const field = pick(FIELDS, v);
      // Absent or null: core treats both as missing for a required field.
      return { raw: withFields(event, { [field]: (v >>> 8) % 2 === 0 ? undefined : null }), field };
    }
    case 'wrong_type': {
      const variants: ReadonlyArray<readonly [string, unknown]> = [
        ['event_id', Number(event.event_id.slice(event.event_id.lastIndexOf('-') + 1))],
        ['sensor_id', Number(event.sensor_id.slice(7))],
        ['category', [event.category]],
        ['value1', String(event.value1)],
        ['value2', event.value2 + 0.5],
        ['value2', String(event.value2)],
        ['status', event.status === 'OK'],
      ];
      const [field, value] = pick(variants, v);
      return { raw: withFields(event, { [field]: value }), field };
    }
    case 'out_of_range': {
      const variants: ReadonlyArray<readonly [string, unknown]> = [
        ['value2', 0],
        ['value2', 100],
        ['value2', -event.value2],
        ['value2', 100 + event.value2 * 10],
        ['value1', HUGE_NUMBER],
        ['event_id', `${event.event_id}-${'x'.repeat(128)}`],
      ];
      const [field, value] = pick(variants, v);
      return { raw: withFields(event, { [field]: value }), field };
    }
    case 'not_allowed': {
      const variants: ReadonlyArray<readonly [string, unknown]> = [
        ['category', 'E'],
        ['category', event.category.toLowerCase()],
        ['category', ''],
        ['status', 'FAIL'],
        ['status', event.status.toLowerCase()],
        ['sensor_id', 'sensor_0'],
        ['sensor_id', event.sensor_id.replace('_', '-')],
        ['sensor_id', event.sensor_id.toUpperCase()],
      ];
      const [field, value] = pick(variants, v);
      return { raw: withFields(event, { [field]: value }), field };
    }
    case 'bad_timestamp': {
      const ts = event.ts;
      const variants: readonly unknown[] = [
        ts.slice(0, 19), // local time, no offset
        `${ts.slice(0, 5)}13${ts.slice(7)}`, // month 13
        `${ts.slice(0, 11)}24${ts.slice(13)}`, // hour 24
        Date.parse(ts), // epoch ms as a number
        'yesterday',
        '',
      ];
      return { raw: withFields(event, { ts: pick(variants, v) }), field: 'ts' };
    }
  }
}
