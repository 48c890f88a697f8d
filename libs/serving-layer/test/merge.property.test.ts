/**
 * The invariant, by property: whatever the records, partitions, horizons and
 * the order in which a new snapshot and the speed layer's rebuilds arrive, the
 * merged answer equals a full recomputation over exactly the records it says
 * it includes, and those are a prefix of every partition (nothing counted
 * twice, no gap). When the speed layer is caught up, that is every record.
 */
import { diffViewRows, finalizeRow, horizonEndOffset, sensorEventSchema } from '@lambdaline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createServingLayer, inMemoryBatchSource, inMemorySpeedSource, normalizeQuery, type ServingLayer } from '../src/index.js';
import { foldAll, Log, snapshotOf, specs, speedViewOf, T0, TOPIC } from './helpers.js';

const event = fc.record({
  minute: fc.integer({ min: 0, max: 3 * 24 * 60 - 1 }),
  sensor: fc.integer({ min: 1, max: 4 }),
  value: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true })),
});

const scenario = fc.record({
  partitions: fc.integer({ min: 1, max: 3 }),
  initial: fc.array(fc.tuple(fc.nat(2), event), { maxLength: 40 }),
  more: fc.array(fc.tuple(fc.nat(2), event), { maxLength: 20 }),
  later: fc.array(fc.tuple(fc.nat(2), event), { maxLength: 20 }),
  h1: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
  h2: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
  rebuildOrder: fc.array(fc.nat(2), { minLength: 3, maxLength: 3 }),
  publishAt: fc.nat(3),
  retain: fc.integer({ min: 2, max: 4 }),
});

/** Checks the answer is exact over what it declares, and that this is a prefix per partition. */
function checkExact(serving: ServingLayer, log: Log): { coveredAll: boolean } {
  const consistency = serving.consistency();
  const snapshotEnd = new Map<number, number>();
  const horizon = serving.horizon();
  let coveredAll = true;
  const covered = log.all().filter((rec) => {
    const end = Number(horizon.partitions.find((p) => p.topic === rec.topic && p.partition === rec.partition)?.endOffset ?? 0);
    snapshotEnd.set(rec.partition, end);
    const use = consistency.partitions.find((p) => p.partition === rec.partition);
    const next = use && use.state !== 'excluded' ? Number(use.nextOffset) : end;
    if (use && use.state !== 'excluded') expect(use.baseOffset).toBe(String(end)); // consistent pair
    return rec.offset < next;
  });
  for (const [p, list] of log.partitions) if (covered.filter((r) => r.partition === p).length !== list.length) coveredAll = false;
  for (const spec of specs) {
    const expected = foldAll(spec, covered);
    expect(diffViewRows(spec, expected, serving.mergedRows(spec.name))).toEqual([]);
    // The HTTP path (per-window JSON, cached until the view changes) says the same as the JS API.
    for (const limit of [1, 7, 10_000]) {
      const q = normalizeQuery(spec, sensorEventSchema, { limit });
      const viaHttp = JSON.parse(serving.runQueryJson(spec, q).toString('utf8'));
      const viaJs = serving.runQuery(spec, q);
      expect(viaHttp.rows).toEqual(JSON.parse(JSON.stringify(viaJs.rows))); // JSON has no -0
      expect(viaHttp.truncated).toBe(viaJs.truncated);
    }
    const answer = serving.query(spec.name, { limit: 10_000 });
    expect(answer.rows.length).toBe(expected.length);
    // Same rows, same order (window, then dimensions), finalised (avg = sum / count).
    answer.rows.forEach((row, i) => {
      const want = finalizeRow(spec, expected[i]!);
      for (const [k, v] of Object.entries(want)) {
        if (typeof v === 'number' && typeof row[k] === 'number') expect(row[k] as number).toBeCloseTo(v, 6);
        else expect(row[k]).toEqual(v);
      }
    });
  }
  return { coveredAll };
}

function checkAll(serving: ServingLayer, log: Log): void {
  const { coveredAll } = checkExact(serving, log);
  expect(coveredAll).toBe(true);
}

describe('merge: consistent pairs (property)', () => {
  it('equals a full recomputation across a new snapshot and the speed layer rebuilding for it', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const log = new Log();
        const add = (list: Array<[number, { minute: number; sensor: number; value: number }]>) => {
          for (const [p, e] of list) log.append(p % s.partitions, T0 + e.minute * 60_000 + 17_000, e.sensor, e.value);
        };
        add(s.initial);
        const parts = [...Array(s.partitions).keys()];
        const h1 = new Map(parts.map((p) => [p, Math.min(log.end(p), Math.floor(s.h1[p]! * (log.end(p) + 1)))]));
        const batch = inMemoryBatchSource(snapshotOf(log, 1, h1));
        const speed = inMemorySpeedSource(parts.map((p) => speedViewOf(log, p, h1.get(p)!, log.end(p), `a${p}`, 1)));
        const serving = createServingLayer({ batch, speed, retainSnapshots: s.retain, metrics: { defaultMetrics: false } });
        try {
          checkAll(serving, log);
          expect(serving.consistency().mode).toBe('live');

          // Live updates: the speed layer folds more records.
          add(s.more);
          speed.put(...parts.map((p) => speedViewOf(log, p, h1.get(p)!, log.end(p), `a${p}`, 2)));
          checkAll(serving, log);

          // A batch run covers more; the speed layer rebuilds each partition for it, in any order,
          // and the snapshot may be seen before, during or after that.
          const h2 = new Map(parts.map((p) => [p, Math.min(log.end(p), h1.get(p)! + Math.floor(s.h2[p]! * (log.end(p) - h1.get(p)! + 1)))]));
          const s2 = snapshotOf(log, 2, h2);
          const order = [...new Set([...s.rebuildOrder.map((p) => p % s.partitions), ...parts])];
          let seq = 3;
          order.forEach((p, i) => {
            if (i === s.publishAt) batch.publish(s2);
            speed.put(speedViewOf(log, p, h2.get(p)!, log.end(p), `b${p}`, seq++));
            checkExact(serving, log);
            // The rebuilt partition keeps folding while others have not rebuilt yet.
            const extra = s.later.filter(([q]) => q % s.partitions === p).slice(0, 3);
            add(extra.map(([, e]) => [p, e] as [number, typeof e]));
            speed.put(speedViewOf(log, p, h2.get(p)!, log.end(p), `b${p}`, seq++));
            checkExact(serving, log);
          });
          if (s.publishAt >= order.length) batch.publish(s2);
          // Caught up: the new pair, everything counted once.
          expect(serving.consistency().mode).toBe('live');
          expect(serving.horizon().snapshotVersion).toBe(2);
          checkAll(serving, log);

          // A fresh serving layer over the same sources agrees (incremental == rebuilt).
          const fresh = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });
          for (const spec of specs) expect(diffViewRows(spec, fresh.mergedRows(spec.name), serving.mergedRows(spec.name))).toEqual([]);
          fresh.close();
        } finally {
          serving.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('merge: the pair rule, case by case', () => {
  function setup() {
    const log = new Log();
    for (let i = 0; i < 20; i++) log.append(i % 2, T0 + i * 60_000, 1 + (i % 3), i);
    const h1 = new Map([[0, 4], [1, 3]]);
    const batch = inMemoryBatchSource(snapshotOf(log, 1, h1));
    const speed = inMemorySpeedSource([speedViewOf(log, 0, 4, 10, 'a0', 1), speedViewOf(log, 1, 3, 10, 'a1', 1)]);
    const serving = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });
    return { log, batch, speed, serving };
  }

  it('keeps the old snapshot while the speed layer has not rebuilt (no double counting)', () => {
    const { log, batch, serving } = setup();
    batch.publish(snapshotOf(log, 2, new Map([[0, 8], [1, 6]])));
    expect(serving.horizon().snapshotVersion).toBe(1);
    expect(serving.consistency().mode).toBe('live');
    checkAll(serving, log);
  });

  it('freezes a rebuilt partition at its last view from the old base until all have rebuilt', () => {
    const { log, batch, speed, serving } = setup();
    batch.publish(snapshotOf(log, 2, new Map([[0, 8], [1, 6]])));
    speed.put(speedViewOf(log, 0, 8, 10, 'b0', 1));
    const c = serving.consistency();
    expect(c.mode).toBe('catching-up');
    expect(serving.horizon().snapshotVersion).toBe(1);
    expect(c.partitions.map((p) => [p.partition, p.state])).toEqual([[0, 'frozen'], [1, 'live']]);
    expect(c.partitions[0]!.reason).toMatch(/rebuilt/);
    checkAll(serving, log);
    speed.put(speedViewOf(log, 1, 6, 10, 'b1', 1));
    expect(serving.consistency().mode).toBe('live');
    expect(serving.horizon().snapshotVersion).toBe(2);
    checkAll(serving, log);
  });

  it('serves the old pair when the speed layer saw a horizon before the snapshot arrived', () => {
    const { log, batch, speed, serving } = setup();
    const ends = new Map([[0, 8], [1, 6]]);
    speed.put(speedViewOf(log, 0, 8, 10, 'b0', 1), speedViewOf(log, 1, 6, 10, 'b1', 1));
    expect(serving.consistency().mode).toBe('catching-up');
    expect(serving.consistency().partitions.every((p) => p.state === 'frozen')).toBe(true);
    checkAll(serving, log);
    batch.publish(snapshotOf(log, 2, ends));
    expect(serving.consistency().mode).toBe('live');
    checkAll(serving, log);
  });

  it('excludes a partition no snapshot fits, flags it, and stays exact over what it includes', () => {
    const log = new Log();
    for (let i = 0; i < 20; i++) log.append(i % 2, T0 + i * 60_000, 1, i);
    const batch = inMemoryBatchSource(snapshotOf(log, 1, new Map([[0, 4], [1, 3]])));
    // Partition 1's speed view starts at 7: a horizon this serving layer never saw.
    const speed = inMemorySpeedSource([speedViewOf(log, 0, 4, 10, 'a0', 1), speedViewOf(log, 1, 7, 10, 'x1', 1)]);
    const serving = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });
    const c = serving.consistency();
    expect(c.mode).toBe('partial');
    expect(c.partitions[1]).toMatchObject({ partition: 1, state: 'excluded', baseOffset: '3', nextOffset: null });
    expect(c.partitions[1]!.reason).toMatch(/starts at offset 7/);
    const { coveredAll } = checkExact(serving, log);
    expect(coveredAll).toBe(false);
    const answer = serving.query('daily_by_category');
    expect(answer.consistency.mode).toBe('partial');
  });

  it('keeps a revoked partition frozen, and lets a new owner replace it', () => {
    const { log, speed, serving } = setup();
    speed.remove(TOPIC, 1);
    expect(serving.consistency().partitions[1]).toMatchObject({ state: 'frozen' });
    checkAll(serving, log);
    speed.put(speedViewOf(log, 1, 3, 10, 'other-owner', 1));
    expect(serving.consistency().partitions[1]).toMatchObject({ state: 'live', epoch: 'other-owner' });
    checkAll(serving, log);
  });

  it('works with no batch snapshot yet (speed views from offset 0) and then the first snapshot', () => {
    const log = new Log();
    for (let i = 0; i < 10; i++) log.append(0, T0 + i * 60_000, 1, i);
    const batch = inMemoryBatchSource();
    const speed = inMemorySpeedSource([speedViewOf(log, 0, 0, 10, 'a', 1)]);
    const serving = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });
    expect(serving.horizon().snapshotVersion).toBe(0);
    expect(serving.consistency().mode).toBe('live');
    checkAll(serving, log);
    batch.publish(snapshotOf(log, 1, new Map([[0, 6]])));
    expect(serving.horizon().snapshotVersion).toBe(0);
    speed.put(speedViewOf(log, 0, 6, 10, 'b', 1));
    expect(serving.horizon().snapshotVersion).toBe(1);
    checkAll(serving, log);
    expect(horizonEndOffset(batch.latest()!.horizon, TOPIC, 0)).toBe('6');
  });

  it('emits changed final rows on speed updates and on a pair switch', () => {
    const { log, batch, speed, serving } = setup();
    const seen: Array<{ rows: number; version: number; mode: string }> = [];
    const sub = serving.changes('sensor_5min').subscribe((c) => seen.push({ rows: c.rows.length, version: c.horizon.snapshotVersion, mode: c.consistency.mode }));
    log.append(0, T0 + 90 * 60_000, 2, 42);
    speed.put(speedViewOf(log, 0, 4, log.end(0), 'a0', 2));
    expect(seen).toEqual([{ rows: 1, version: 1, mode: 'live' }]);
    // Nothing changed in the rows: no event.
    speed.put(speedViewOf(log, 0, 4, log.end(0), 'a0', 3));
    expect(seen).toHaveLength(1);
    batch.publish(snapshotOf(log, 2, new Map([[0, 8], [1, 6]])));
    speed.put(speedViewOf(log, 0, 8, log.end(0), 'b0', 1), speedViewOf(log, 1, 6, log.end(1), 'b1', 1));
    expect(seen.at(-1)).toMatchObject({ version: 2, mode: 'live' });
    sub.unsubscribe();
  });
});
