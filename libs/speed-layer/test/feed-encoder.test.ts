import { defaultDomain, resolveDomain, SpeedFeedReader, type SpeedFeedMessage, type SpeedPartitionView } from '@lambdaline/core';
import { describe, expect, it } from 'vitest';
import { createSpeedLayer, InProcessLog, inProcessSource, SpeedFeedEncoder, speedFeedPartitionFor, type SpeedLayer } from '../src/index.js';
import { sensorMessages, take } from './helpers/events.js';
import { diffViews, referenceHorizon } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);

function expectSameViews(reader: SpeedFeedReader, layer: SpeedLayer) {
  const fromFeed = new Map(reader.views().map((v) => [v.partition, v]));
  const held = layer.partitions();
  expect([...fromFeed.keys()].sort()).toEqual(held.map((v) => v.partition).sort());
  for (const view of held) {
    const got = fromFeed.get(view.partition)!;
    expect({ epoch: got.epoch, seq: got.seq, base: got.baseOffset, next: got.nextOffset, max: got.maxEventTime, wm: got.watermark }).toEqual({
      epoch: view.epoch,
      seq: view.seq,
      base: view.baseOffset,
      next: view.nextOffset,
      max: view.maxEventTime,
      wm: view.watermark,
    });
    expect(diffViews(domain.views, view.views, got.views)).toEqual([]);
    for (const spec of domain.views) expect(got.views[spec.name]?.length ?? 0).toBe(view.views[spec.name]!.length);
  }
}

/** What a reader of a compacted topic sees: the last message of each key, in log order. */
function compacted(log: SpeedFeedMessage[], dropTombstones: boolean): SpeedFeedMessage[] {
  const last = new Map<string, number>();
  log.forEach((m, i) => last.set(m.key, i));
  return log.filter((m, i) => last.get(m.key) === i && !(dropTombstones && m.value === null));
}

describe('speed feed encoding', () => {
  it('a reader of the feed holds exactly the in-memory views, also after compaction', async () => {
    const log = new InProcessLog({ events: 2 });
    const gen = sensorMessages({ seed: 31, stepMs: 20_000, jitterMs: 5 * 60_000, late: 0.02 });
    const layer = createSpeedLayer({ source: inProcessSource(log, { topic: 'events', maxBatchRecords: 37 }), retention: '3h', allowedLateness: '30m', emitIntervalMs: 0 });
    const encoder = new SpeedFeedEncoder();
    layer.deltas.subscribe((d) => encoder.apply(d));
    const feed: SpeedFeedMessage[] = [];
    const reader = new SpeedFeedReader();
    const drain = () => {
      for (const batch of encoder.take()) {
        for (const m of batch.messages) {
          feed.push(m);
          reader.apply(m.key, m.value);
        }
      }
    };
    await layer.start();
    for (let round = 0; round < 12; round++) {
      log.appendMany('events', take(gen, 150));
      await layer.caughtUp();
      if (round % 3 === 2) {
        const records = [0, 1].map((p) => log.read('events', p));
        const ends = records.map((rs) => Math.floor(rs.length * (round % 2 === 0 ? 0.5 : 0.9)));
        layer.setHorizon(referenceHorizon('events', records, ends, domain.schema));
        layer.flush();
      }
      if (round % 2 === 1) {
        drain();
        expectSameViews(reader, layer);
      }
    }
    drain();
    expectSameViews(reader, layer);
    expect(feed.some((m) => m.value === null)).toBe(true); // evictions and stale keys were tombstoned
    for (const dropTombstones of [false, true]) {
      const fresh = new SpeedFeedReader();
      for (const m of compacted(feed, dropTombstones)) fresh.apply(m.key, m.value);
      expectSameViews(fresh, layer);
    }
    await layer.stop();
  });

  it('seeds a late attach from full views and forgets revoked partitions', () => {
    const view: SpeedPartitionView = {
      topic: 't', partition: 3, epoch: 'e1', seq: 4, baseOffset: '10', nextOffset: '12', maxEventTime: 5, watermark: 1, updatedAt: 9,
      views: { v: [{ windowStart: 0, dims: ['a'], parts: { n: { count: 2 } } }] },
    };
    const encoder = new SpeedFeedEncoder();
    encoder.seed([view]);
    const reader = new SpeedFeedReader();
    for (const b of encoder.take()) for (const m of b.messages) reader.apply(m.key, m.value);
    expect(reader.views()).toEqual([view]);
    // A delta of an epoch the encoder never saw the start of is published whole from the full view.
    const later = { ...view, epoch: 'e2', seq: 1, views: { v: [] } };
    encoder.apply(
      { updated: [{ ...later, reset: false, upserts: {}, removed: {} }], removed: [] },
      () => later,
    );
    for (const b of encoder.take()) for (const m of b.messages) reader.apply(m.key, m.value);
    expect(reader.views()[0]!.epoch).toBe('e2');
    expect(reader.views()[0]!.views.v ?? []).toEqual([]);
    encoder.apply({ updated: [], removed: [{ topic: 't', partition: 3 }] });
    expect(encoder.hasPending).toBe(false);
  });

  it('maps each source partition to one stable feed partition', () => {
    for (let p = 0; p < 50; p++) {
      const f = speedFeedPartitionFor('events', p, 6);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(6);
      expect(speedFeedPartitionFor('events', p, 6)).toBe(f);
    }
    expect(new Set(Array.from({ length: 50 }, (_, p) => speedFeedPartitionFor('events', p, 6))).size).toBeGreaterThan(3);
  });
});
