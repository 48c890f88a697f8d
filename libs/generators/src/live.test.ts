import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { take, toArray, type SchedulerLike } from 'rxjs';
import { parseEvent, parseTimestamp, sensorEventSchema } from '@lambdaline/core';
import { liveEvents, liveMessages, liveRawMessages, type GeneratedMessage } from './index.js';

const BASE = Date.UTC(2024, 4, 1, 12);

/** Runs `fn` in virtual time; resolves with what it recorded once the scheduler has flushed. */
function inVirtualTime<T>(fn: (scheduler: TestScheduler) => T): T {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  let result!: T;
  scheduler.run(() => {
    result = fn(scheduler);
  });
  return result;
}

/** Subscribes and records each emission with the virtual time it happened at. */
function record<T>(scheduler: TestScheduler, source: import('rxjs').Observable<T>) {
  const out = { items: [] as Array<{ at: number; value: T }>, completedAt: -1 };
  source.subscribe({ next: (value) => out.items.push({ at: scheduler.now(), value }), complete: () => (out.completedAt = scheduler.now()) });
  return out;
}

describe('liveMessages', () => {
  it('emits exactly count messages, spaced by the rate, in virtual time', () => {
    const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ rate: 50, count: 120, seed: 1, scheduler, clock: () => BASE + scheduler.now() })));
    expect(rec.items).toHaveLength(120);
    // 50/s: one every 20 ms, the first at once.
    expect(rec.items.map((i) => i.at)).toEqual(Array.from({ length: 120 }, (_, n) => n * 20));
    expect(rec.completedAt).toBe(119 * 20);
    // Event time = the clock at emission.
    rec.items.forEach(({ at, value }) => expect(value.expected === 'valid' && parseTimestamp(value.event.ts)).toBe(BASE + at));
  });

  it('keeps the long-run rate exact when the period is not a whole millisecond', () => {
    const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ rate: 3000, count: 3000, scheduler })));
    expect(rec.items).toHaveLength(3000);
    // Message n is due at n / 3 ms, emitted at the first whole ms not before: bursts of three.
    expect(rec.items.map((i) => i.at)).toEqual(Array.from({ length: 3000 }, (_, n) => Math.ceil(n / 3)));
    expect(rec.completedAt).toBe(1000);
  });

  it('as fast as possible: chunks per tick, no waiting', () => {
    for (const rate of [0, Infinity]) {
      const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ rate, count: 2500, chunkSize: 1000, scheduler })));
      expect(rec.items).toHaveLength(2500);
      expect(rec.items.every((i) => i.at === 0)).toBe(true);
    }
  });

  it('is deterministic apart from time, and gives the same messages whatever the rate', () => {
    const run = (rate: number) =>
      inVirtualTime((s) => record(s, liveMessages({ seed: 9, rate, count: 300, malformedShare: 0.2, jitterMs: 100, scheduler: s, clock: () => BASE })));
    const a = run(10);
    expect(run(10)).toEqual(a);
    expect(run(Infinity).items.map((i) => i.value)).toEqual(a.items.map((i) => i.value));
    expect(a.items.map((i) => i.value.index)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('catches up after a stall in chunks of at most chunkSize per tick, keeping the long-run rate', () => {
    const result = inVirtualTime((ts) => {
      // A scheduler whose clock jumps 2 s ahead at t = 1 s (the event loop was blocked),
      // and which numbers its ticks so bursts can be measured.
      let skew = 0;
      let tick = 0;
      const stalled: SchedulerLike = {
        now: () => ts.now() + skew,
        schedule: (work: any, delay?: number, state?: any) =>
          ts.schedule(function (this: any, s: any) {
            tick++;
            work.call(this, s);
          }, delay, state),
      };
      ts.schedule(() => (skew = 2000), 1000);
      const out = { ticks: [] as number[], completedAt: -1 };
      liveMessages({ rate: 1000, count: 5000, chunkSize: 100, scheduler: stalled }).subscribe({
        next: () => out.ticks.push(tick),
        complete: () => (out.completedAt = stalled.now()),
      });
      return out;
    });
    expect(result.ticks).toHaveLength(5000);
    const perTick = new Map<number, number>();
    for (const t of result.ticks) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    expect(Math.max(...perTick.values())).toBe(100); // the catch-up came in chunks
    expect(result.completedAt).toBe(4999); // and the schedule held: message n at n ms
  });

  it('stops when unsubscribed (take) and never emits after', () => {
    const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ rate: 100, scheduler }).pipe(take(7))));
    expect(rec.items.map((i) => i.at)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(rec.completedAt).toBe(60);
  });

  it('count 0 completes at once', () => {
    const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ count: 0, scheduler })));
    expect(rec.items).toEqual([]);
    expect(rec.completedAt).toBe(0);
  });

  it('tags malformed messages with the code core gives them; late ones are valid but pushed back', () => {
    const rec = inVirtualTime((scheduler) =>
      record(scheduler, liveMessages({ rate: 1000, count: 5000, malformedShare: 0.1, lateShare: 0.05, lateByMs: 120_000, jitterMs: 500, scheduler, clock: () => BASE + scheduler.now() })),
    );
    let malformed = 0;
    let late = 0;
    for (const { at, value } of rec.items) {
      const result = parseEvent(sensorEventSchema, value.raw);
      if (value.expected === 'valid') {
        expect(result.ok).toBe(true);
        const lag = BASE + at - (parseTimestamp(value.event.ts) as number);
        if (value.late) {
          late++;
          expect(lag).toBeGreaterThanOrEqual(120_000);
          expect(lag).toBeLessThanOrEqual(120_500);
        } else {
          expect(lag).toBeGreaterThanOrEqual(0);
          expect(lag).toBeLessThanOrEqual(500);
        }
      } else {
        malformed++;
        expect(!result.ok && result.rejection.code).toBe(value.expected);
      }
    }
    expect(malformed).toBeGreaterThan(400);
    expect(malformed).toBeLessThan(600);
    expect(late).toBeGreaterThan(150);
    expect(late).toBeLessThan(300);
  });

  it('uses asyncScheduler by default (virtualised by TestScheduler.run)', () => {
    const rec = inVirtualTime((scheduler) => record(scheduler, liveMessages({ rate: 4, count: 3 })));
    expect(rec.items.map((i) => i.at)).toEqual([0, 250, 500]);
  });
});

describe('liveEvents and liveRawMessages', () => {
  it('liveEvents emits valid events; liveRawMessages the JSON text of the same messages', () => {
    const events = inVirtualTime((s) => record(s, liveEvents({ seed: 3, rate: 100, count: 50, scheduler: s })));
    const raws = inVirtualTime((s) => record(s, liveRawMessages({ seed: 3, rate: 100, count: 50, scheduler: s })));
    expect(raws.items.map((r) => r.value)).toEqual(events.items.map((e) => JSON.stringify(e.value)));
    expect(events.items[0]!.value.event_id).toBe('live-00000003-0');
  });

  it('works on the real clock too (no timing asserted)', async () => {
    const got = await new Promise<string[]>((resolve, reject) => liveRawMessages({ rate: Infinity, count: 5 }).pipe(toArray()).subscribe({ next: resolve, error: reject }));
    expect(got).toHaveLength(5);
    const now = Date.now();
    const t = parseTimestamp(JSON.parse(got[0]!).ts) as number;
    expect(Math.abs(now - t)).toBeLessThan(3_600_000);
  });
});
