/**
 * The synchronous event generator: the reference every other output (Parquet
 * history, Kafka backlog) is checked against.
 */
import { makeEvent, resolveEventModel, type EventModel, type EventOptions, type SensorEvent } from './event-model.js';
import { indexHash } from './hash.js';
import { planRange, planTime, type DayPlan, type TimeRangeOptions } from './plan.js';

export interface GenerateEventsOptions extends EventOptions, TimeRangeOptions {}

/** A run laid out in time, before any event is generated. */
export interface EventPlan {
  /** The seed as the 32-bit number actually used (strings are hashed). */
  readonly seed: number;
  readonly sensors: number;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  readonly startIndex: number;
  /** Number of events in the run. */
  readonly total: number;
  /** The UTC days holding events, in order, with their index ranges. */
  readonly days: readonly DayPlan[];
}

export const HISTORY_ID_PREFIX = 'evt';

/** Internal: the model plus the plan, resolved once. */
export interface ResolvedRun {
  readonly model: EventModel;
  readonly plan: EventPlan;
}

export function resolveRun(options: GenerateEventsOptions, defaultPrefix = HISTORY_ID_PREFIX): ResolvedRun {
  const model = resolveEventModel(options, defaultPrefix);
  const range = planRange(options, model.startIndex);
  return {
    model,
    plan: {
      seed: model.seed,
      sensors: model.sensors,
      from: range.fromMs,
      to: range.toMs,
      startIndex: model.startIndex,
      total: range.total,
      days: range.days,
    },
  };
}

/** Lays out a run (days, counts, index ranges) without generating it; validates the options. */
export function planEvents(options: GenerateEventsOptions = {}): EventPlan {
  return resolveRun(options).plan;
}

/**
 * Valid events of the default domain over a time range, in index order (which
 * is event-time order). Same options, same events, on any machine. Lazy and
 * synchronous: generate 50M without holding them.
 *
 * @throws ConfigError naming the option, at the call (not on first `next()`).
 */
export function generateEvents(options: GenerateEventsOptions = {}): IterableIterator<SensorEvent> {
  const { model, plan } = resolveRun(options);
  return generateEventsFrom(plan.days, (day, index) => {
    const root = indexHash(index, model.seedKey);
    return makeEvent(model, index, planTime(day, index, root), root);
  });
}

/** Walks the indices of `days` in order, making one item per index. */
export function* generateEventsFrom<T>(days: readonly DayPlan[], make: (day: DayPlan, index: number) => T): Generator<T, void, undefined> {
  for (const day of days) {
    const end = day.firstIndex + day.count;
    for (let index = day.firstIndex; index < end; index++) yield make(day, index);
  }
}
