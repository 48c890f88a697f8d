/**
 * Live streams: RxJS Observables emitting messages at a steady rate, event
 * times taken from a clock at emission. Time comes only from the scheduler
 * (when to emit) and the clock (what to stamp), both injectable, so tests run
 * them in virtual time and stay deterministic.
 *
 * Rate control is "catch up to the schedule": message n is due at
 * `start + ceil(n * 1000 / rate)` ms; each tick emits every message already due
 * and sleeps until the next one. A slow timer or a busy event loop makes a
 * burst, never a lower long-run rate.
 */
import { Observable, asyncScheduler, map, type SchedulerLike, type Subscription } from 'rxjs';
import { assertParam } from '@lambdaline/core';
import { resolveEventModel, type EventOptions, type SensorEvent } from './event-model.js';
import { makeMessage, resolveMessageModel, type GeneratedMessage, type MessageOptions } from './messages.js';
import { checkCount, checkInt } from './options.js';

export interface LiveStreamOptions extends EventOptions, MessageOptions {
  /** Messages per second. `0` or `Infinity`: as fast as possible, `chunkSize` per tick. Default 100. */
  readonly rate?: number;
  /** Messages to emit before completing. Default `Infinity` (until unsubscribed). */
  readonly count?: number;
  /** Decides when messages are emitted. Default `asyncScheduler` (a `TestScheduler` in tests). */
  readonly scheduler?: SchedulerLike;
  /** Event time of a message emitted now, epoch ms. Default `() => scheduler.now()`. */
  readonly clock?: () => number;
  /** Most messages per tick (at unlimited rate, or catching up after a stall); the event loop runs between ticks. Default 1000. */
  readonly chunkSize?: number;
}

export const LIVE_ID_PREFIX = 'live';
export const DEFAULT_RATE = 100;
export const DEFAULT_CHUNK_SIZE = 1000;

function checkRate(value: unknown): number {
  assertParam(typeof value === 'number' && value >= 0, 'rate', `must be a number of messages per second >= 0 (0 or Infinity = as fast as possible), got ${String(value)}`);
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}

/**
 * A live stream of messages (valid and, with `malformedShare`, malformed), each
 * tagged with what core will make of it. Cold: each subscription starts its own
 * run at `startIndex`, so two subscribers see the same messages.
 *
 * @throws ConfigError naming the option, at the call.
 */
export function liveMessages(options: LiveStreamOptions = {}): Observable<GeneratedMessage> {
  const model = resolveEventModel(options, LIVE_ID_PREFIX);
  const messages = resolveMessageModel(options);
  const rate = checkRate(options.rate ?? DEFAULT_RATE);
  const count = checkCount(options.count ?? Number.POSITIVE_INFINITY, 'count', true);
  const chunkSize = checkInt(options.chunkSize ?? DEFAULT_CHUNK_SIZE, 'chunkSize', 1, 10_000_000);
  const scheduler = options.scheduler ?? asyncScheduler;
  assertParam(options.clock === undefined || typeof options.clock === 'function', 'clock', 'must be a function returning epoch ms');
  const clock = options.clock ?? (() => scheduler.now());
  const unlimited = rate === Number.POSITIVE_INFINITY;

  return new Observable<GeneratedMessage>((subscriber) => {
    if (count === 0) {
      subscriber.complete();
      return undefined;
    }
    const start = scheduler.now();
    const dueAt = (n: number) => start + Math.ceil((n * 1000) / rate);
    let emitted = 0;
    // Each tick is scheduled afresh rather than by re-scheduling the running
    // action: a VirtualTimeScheduler nests re-scheduled actions, and a long
    // stream in a test would overflow the stack on unsubscribe.
    let pending: Subscription | undefined;
    const tick = () => {
      const now = scheduler.now();
      // At most chunkSize per tick, also when catching up after a stall: the
      // rest is due already, so the next tick comes at once, after the event loop turned.
      const limit = Math.min(count, emitted + chunkSize);
      while (emitted < limit && (unlimited || dueAt(emitted) <= now) && !subscriber.closed) {
        subscriber.next(makeMessage(model, messages, model.startIndex + emitted, clock()));
        emitted++;
      }
      if (subscriber.closed) return;
      if (emitted >= count) {
        subscriber.complete();
        return;
      }
      pending = scheduler.schedule(tick, unlimited ? 0 : Math.max(0, dueAt(emitted) - now));
    };
    pending = scheduler.schedule(tick);
    return () => pending?.unsubscribe();
  });
}

/** A live stream of valid events only (no `malformedShare`). */
export function liveEvents(options: Omit<LiveStreamOptions, 'malformedShare' | 'malformedKinds'> = {}): Observable<SensorEvent> {
  const share = (options as MessageOptions).malformedShare;
  assertParam(share === undefined || share === 0, 'malformedShare', 'liveEvents emits valid events only; use liveMessages or liveRawMessages for malformed ones');
  return liveMessages(options).pipe(map((message) => message.event!));
}

/** The plain-string view of `liveMessages`: just the message values, as a consumer sees them. */
export function liveRawMessages(options: LiveStreamOptions = {}): Observable<string> {
  return liveMessages(options).pipe(map((message) => message.raw));
}
