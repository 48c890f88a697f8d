/**
 * Raw messages as a producer would put them on Kafka: JSON text keyed by
 * sensor, a chosen share of them malformed, some valid ones shifted back in
 * time (out of order, or late). Each message says what core will make of it,
 * so a consumer's test can count dead letters exactly.
 */
import { assertParam } from '@lambdaline/core';
import { makeEvent, type EventModel, type SensorEvent } from './event-model.js';
import { generateEventsFrom, resolveRun, type GenerateEventsOptions } from './generate-events.js';
import { SALT, TWO_POW_32, chance, fieldHash, indexHash } from './hash.js';
import { MALFORMED_KINDS, corrupt, type MalformedKind } from './malformed.js';
import { checkDuration, checkShare } from './options.js';
import { planTime } from './plan.js';

/** What `parseEvent(sensorEventSchema, raw)` gives for a message: valid, or the rejection code. */
export type Expectation = 'valid' | MalformedKind;

export interface ValidMessage {
  /** The event index (ids, content and key derive from it). */
  readonly index: number;
  /** Kafka key: the sensor id, so one sensor's messages stay in order in one partition. */
  readonly key: string;
  /** The message value: the event as JSON. */
  readonly raw: string;
  readonly expected: 'valid';
  readonly event: SensorEvent;
  /** True when the event time was pushed back by `lateByMs` (see `lateShare`). */
  readonly late: boolean;
  readonly field?: undefined;
}

export interface MalformedMessage {
  readonly index: number;
  /** The sensor id of the event it was made from. */
  readonly key: string;
  readonly raw: string;
  /** The rejection code core gives this message. */
  readonly expected: MalformedKind;
  /** The field core's rejection names, when it names one. */
  readonly field?: string;
  readonly event?: undefined;
  readonly late: false;
}

export type GeneratedMessage = ValidMessage | MalformedMessage;

export interface MessageOptions {
  /** Share (0..1) of messages made malformed, each drawn independently. Default 0. */
  readonly malformedShare?: number;
  /** Which rejection codes malformed messages get, drawn uniformly. Default: all of `MALFORMED_KINDS`. */
  readonly malformedKinds?: readonly MalformedKind[];
  /**
   * Share (0..1) of valid events whose event time is pushed back by `lateByMs`,
   * to exercise a consumer's lateness rules. Default 0.
   */
  readonly lateShare?: number;
  /** How far back late events are pushed, ms. Default 600,000 (10 minutes). */
  readonly lateByMs?: number;
  /**
   * Out-of-order jitter: every event time is moved back by a uniform 0..jitterMs
   * ms, so consecutive messages are not in event-time order. Default 0.
   */
  readonly jitterMs?: number;
}

export interface MessageModel {
  readonly malformedShare: number;
  readonly kinds: readonly MalformedKind[];
  readonly lateShare: number;
  readonly lateByMs: number;
  readonly jitterMs: number;
}

export const DEFAULT_LATE_BY_MS = 600_000;

export function resolveMessageModel(options: MessageOptions): MessageModel {
  const kinds = options.malformedKinds ?? MALFORMED_KINDS;
  assertParam(Array.isArray(kinds) && kinds.length > 0, 'malformedKinds', `must list at least one of ${MALFORMED_KINDS.join(', ')}`);
  kinds.forEach((kind, i) => assertParam(MALFORMED_KINDS.includes(kind), `malformedKinds[${i}]`, `${JSON.stringify(kind)} is not one of ${MALFORMED_KINDS.join(', ')}`));
  return {
    malformedShare: checkShare(options.malformedShare ?? 0, 'malformedShare'),
    kinds: [...kinds],
    lateShare: checkShare(options.lateShare ?? 0, 'lateShare'),
    lateByMs: checkDuration(options.lateByMs ?? DEFAULT_LATE_BY_MS, 'lateByMs'),
    jitterMs: Math.floor(checkDuration(options.jitterMs ?? 0, 'jitterMs')),
  };
}

/** Message `index` with nominal event time `timeMs` (before jitter and lateness). */
export function makeMessage(model: EventModel, messages: MessageModel, index: number, timeMs: number, root = indexHash(index, model.seedKey)): GeneratedMessage {
  let time = timeMs;
  if (messages.jitterMs > 0) time -= Math.floor((fieldHash(root, SALT.jitter) / TWO_POW_32) * (messages.jitterMs + 1));
  const malformed = messages.malformedShare > 0 && chance(fieldHash(root, SALT.malformed), messages.malformedShare);
  const late = !malformed && messages.lateShare > 0 && chance(fieldHash(root, SALT.late), messages.lateShare);
  if (late) time -= messages.lateByMs;
  const event = makeEvent(model, index, time, root);
  if (!malformed) return { index, key: event.sensor_id, raw: JSON.stringify(event), expected: 'valid', event, late };
  const kind = messages.kinds[fieldHash(root, SALT.malformedKind) % messages.kinds.length]!;
  const { raw, field } = corrupt(kind, event, fieldHash(root, SALT.malformedVariant));
  return field === undefined
    ? { index, key: event.sensor_id, raw, expected: kind, late: false }
    : { index, key: event.sensor_id, raw, expected: kind, field, late: false };
}

export interface GenerateMessagesOptions extends GenerateEventsOptions, MessageOptions {}

/**
 * Messages over a time range, one per event of `generateEvents(options)` (same
 * index, same content; a malformed one replaces its event). Use it to fill a
 * topic with a backlog: it is a plain iterable, so a producer pulls at its own
 * pace and memory stays bounded.
 */
export function generateMessages(options: GenerateMessagesOptions = {}): IterableIterator<GeneratedMessage> {
  const { model, plan } = resolveRun(options);
  const messages = resolveMessageModel(options);
  return generateEventsFrom(plan.days, (day, index) => {
    const root = indexHash(index, model.seedKey);
    return makeMessage(model, messages, index, planTime(day, index, root), root);
  });
}
