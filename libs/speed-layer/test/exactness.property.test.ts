/**
 * Property: for random event sequences (valid, malformed, invalid, late),
 * random horizons (forward, backward, beyond what was read) and random crash
 * points, every partition view equals the reference fold over exactly the
 * records at or past the horizon (minus invalid and too-late ones, evicted
 * windows dropped) — right after each horizon change and after catching up.
 */
import { defaultDomain, resolveDomain, SENSOR_CATEGORIES } from '@lambdaline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSpeedLayer, InProcessLog, inProcessSource, type SpeedLayer, type SpeedSource } from '../src/index.js';
import { T0 } from './helpers/events.js';
import { diffViews, referenceHorizon, referencePartition, type RefOptions } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);
const MIN = 60_000;
const LATENESS = 10 * MIN;
const RETENTION = 60 * MIN;
const ref: RefOptions = { schema: domain.schema, views: domain.views, allowedLatenessMs: LATENESS, retentionMs: RETENTION };

type Kind = 'valid' | 'malformed' | 'invalid';
const recordArb = fc.record({
  partition: fc.nat(2),
  kind: fc.constantFrom<Kind>('valid', 'valid', 'valid', 'valid', 'valid', 'valid', 'malformed', 'invalid'),
  // Times on a 30 s grid, so that lateness and retention boundaries are hit exactly.
  advance: fc.integer({ min: 0, max: 8 }).map((k) => k * 30_000),
  // How far before the running clock the event time is: sometimes beyond the allowed lateness.
  back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 }).map((k) => k * 30_000)),
  sensor: fc.integer({ min: 1, max: 4 }),
  category: fc.constantFrom(...SENSOR_CATEGORIES),
  value1: fc.integer({ min: -1000, max: 1000 }).map((v) => v / 8),
  value2: fc.integer({ min: 1, max: 99 }),
});

const opArb = fc.oneof(
  fc.record({ op: fc.constant('append' as const), records: fc.array(recordArb, { minLength: 1, maxLength: 40 }) }),
  fc.record({ op: fc.constant('horizon' as const), at: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }) }),
  fc.record({ op: fc.constant('crash' as const) }),
  fc.record({ op: fc.constant('settle' as const) }),
);

type GenRecord = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

function encode(r: GenRecord, clock: number, i: number): string {
  if (r.kind === 'malformed') return `{"event_id":"x${i}",`;
  return JSON.stringify({
    event_id: `p-${i}`,
    ts: new Date(clock - r.back).toISOString(),
    sensor_id: `sensor_${r.sensor}`,
    category: r.kind === 'invalid' ? 'Q' : r.category,
    value1: r.value1,
    value2: r.value2,
    status: 'OK',
  });
}

describe('exactness under random horizons and crashes', () => {
  it('every partition view equals the fold over exactly [horizon, nextOffset)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 14 }),
        fc.constantFrom(0, 30, 1_000_000),
        fc.integer({ min: 1, max: 25 }),
        async (ops, replayBufferRecords, maxBatchRecords) => {
          const log = new InProcessLog({ events: 3 });
          let clock = T0;
          let n = 0;
          let horizon = referenceHorizon('events', [[], [], []], [0, 0, 0], domain.schema);
          let source: SpeedSource;
          let layer: SpeedLayer;
          const live: SpeedLayer[] = [];
          const boot = async () => {
            source = inProcessSource(log, { topic: 'events', maxBatchRecords });
            layer = createSpeedLayer({ source, horizon, allowedLateness: LATENESS, retention: RETENTION, replayBufferRecords, emitIntervalMs: 0 });
            live.push(layer);
            await layer.start();
          };
          const check = (when: string) => {
            for (const view of layer.partitions()) {
              const records = log.read('events', view.partition);
              expect(view.baseOffset, when).toBe(String(horizon.partitions.find((p) => p.partition === view.partition)?.endOffset ?? '0'));
              const expected = referencePartition(records, Number(view.baseOffset), Number(view.nextOffset), ref);
              expect(diffViews(domain.views, expected.views, view.views), `${when}: partition ${view.partition}`).toEqual([]);
              expect(view.maxEventTime, when).toBe(expected.maxEventTime);
            }
          };
          await boot();
          try {
            for (const op of ops) {
              if (op.op === 'append') {
                for (const r of op.records) {
                  clock += r.advance;
                  log.append('events', encode(r, clock, n++), { partition: r.partition });
                }
                // Sometimes let it read part of what was appended.
                await new Promise((resolve) => setImmediate(resolve));
              } else if (op.op === 'horizon') {
                const records = [0, 1, 2].map((p) => log.read('events', p));
                const ends = records.map((rs, p) => Math.floor(op.at[p]! * (rs.length + 0.999)));
                horizon = referenceHorizon('events', records, ends, domain.schema);
                layer!.setHorizon(horizon);
                check('right after setHorizon');
              } else if (op.op === 'crash') {
                await source!.stop(); // dies: nothing flushed, committed or stopped
                await boot();
              } else {
                await layer!.caughtUp();
                check('after settling');
              }
            }
            await layer!.caughtUp();
            check('at the end');
            expect(layer!.partitions().map((v) => v.nextOffset)).toEqual([0, 1, 2].map((p) => log.endOffset('events', p)));
          } finally {
            await Promise.all(live.map((l) => l.stop()));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
