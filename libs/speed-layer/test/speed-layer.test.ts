import {
  ConfigError,
  DEAD_LETTER_HEADERS,
  defaultDomain,
  emptyHorizon,
  makeHorizon,
  mergeViewRows,
  resolveDomain,
  type BatchSnapshot,
  type DeadLetter,
  type SpeedChange,
  type ViewRow,
} from '@lambdaline/core';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpeedLayer, InProcessLog, inProcessSource, type DeadLetterRecord, type SpeedLayer, type SpeedLayerError, type SpeedLayerOptions } from '../src/index.js';
import { sensorMessages, T0, take } from './helpers/events.js';
import { batchFold, defaultRef as ref, diffViews, HOUR, referenceHorizon, referencePartition, type RefOptions } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);

const layers: SpeedLayer[] = [];
afterEach(async () => {
  await Promise.all(layers.splice(0).map((l) => l.stop()));
});

function layerOn(log: InProcessLog, topic: string, options: Partial<SpeedLayerOptions> = {}): SpeedLayer {
  const layer = createSpeedLayer({ source: inProcessSource(log, { topic, deadLetterTopic: `${topic}.dlq` }), ...options });
  layers.push(layer);
  return layer;
}

function expectExact(layer: SpeedLayer, log: InProcessLog, topic: string, o: RefOptions = ref()): void {
  for (const view of layer.partitions()) {
    const records = log.read(topic, view.partition);
    const expected = referencePartition(records, Number(view.baseOffset), Number(view.nextOffset), o);
    expect(diffViews(domain.views, expected.views, view.views), `partition ${view.partition}`).toEqual([]);
    expect(view.maxEventTime).toBe(expected.maxEventTime);
  }
}

describe('speed layer over the in-process log', () => {
  it('folds every partition exactly and reports offsets, watermark and status', async () => {
    const log = new InProcessLog({ events: 3 });
    log.appendMany('events', take(sensorMessages({ seed: 7, jitterMs: 20_000 }), 3000));
    const layer = layerOn(log, 'events');
    await layer.start();
    await layer.caughtUp();
    const views = layer.partitions();
    expect(views.map((v) => [v.partition, v.baseOffset, v.nextOffset])).toEqual([
      [0, '0', '1000'],
      [1, '0', '1000'],
      [2, '0', '1000'],
    ]);
    expectExact(layer, log, 'events');
    for (const v of views) expect(v.watermark).toBe(v.maxEventTime! - HOUR);
    const merged = layer.view('sensor_5min');
    const all = domain.views.find((v) => v.name === 'sensor_5min')!;
    expect(merged).toEqual(mergeViewRows(all, ...views.map((v) => v.views.sensor_5min!)));
    const status = layer.status();
    expect(status.state).toBe('running');
    expect(status.eventsTotal).toBe(3000);
    expect(status.partitions.every((p) => p.lag === 0)).toBe(true);
    expect(layer.finalView('daily_by_category').reduce((n, r) => n + (r.record_count as number), 0)).toBe(3000);
  });

  it('keeps following appends and emits coalesced changes in order', async () => {
    const log = new InProcessLog({ events: 2 });
    const gen = sensorMessages({ seed: 3 });
    const layer = layerOn(log, 'events', { emitIntervalMs: 5 });
    const changes: SpeedChange[] = [];
    layer.changes.subscribe((c) => changes.push(c));
    await layer.start();
    for (let round = 0; round < 5; round++) {
      log.appendMany('events', take(gen, 200));
      await layer.caughtUp();
    }
    expectExact(layer, log, 'events');
    const seqs = new Map<number, number>();
    for (const change of changes) {
      for (const view of change.updated) {
        expect(view.seq).toBeGreaterThan(seqs.get(view.partition) ?? 0);
        seqs.set(view.partition, view.seq);
      }
    }
    const last = new Map(changes.flatMap((c) => c.updated.map((v) => [v.partition, v] as const)));
    expect([...last.values()].map((v) => v.nextOffset).sort()).toEqual(['500', '500']);
  });

  it('sends malformed, invalid and too-late records to the dead letters with reasons, and never folds them', async () => {
    const log = new InProcessLog({ events: 2 });
    const messages = take(sensorMessages({ seed: 11, malformed: 0.05, invalid: 0.05, late: 0.05, lateByMs: 3 * HOUR }), 2000);
    log.appendMany('events', messages);
    log.append('events', null, { partition: 0 });
    log.append('events', '[1,2]', { partition: 1 });
    const layer = layerOn(log, 'events');
    const letters: DeadLetter[] = [];
    layer.deadLetters.subscribe((l) => letters.push(l));
    await layer.start();
    await layer.caughtUp();
    expectExact(layer, log, 'events');
    const expectedRejected = [0, 1].flatMap((p) => {
      const r = referencePartition(log.read('events', p), 0, Number(log.endOffset('events', p)), ref());
      return [...r.invalid.map((o) => `${p}:${o}`), ...r.tooLate.map((o) => `${p}:${o}`)];
    });
    const got = letters.map((l) => (l.origin.kind === 'kafka' ? `${l.origin.partition}:${l.origin.offset}` : '?'));
    expect(got.sort()).toEqual(expectedRejected.sort());
    const codes = layer.status().deadLetters;
    expect(codes.too_late).toBeGreaterThan(50);
    expect(codes.malformed_json).toBeGreaterThan(50);
    expect((codes.out_of_range ?? 0) + (codes.not_allowed ?? 0)).toBeGreaterThan(50);
    expect(codes.not_an_object).toBe(1);
    const late = letters.find((l) => l.code === 'too_late')!;
    expect(late.field).toBe('ts');
    expect(late.reason).toMatch(/more than 1h before/);
    // The dead-letter topic holds the original bytes and the reason in headers.
    const dlq = log.read('events.dlq', 0);
    expect(dlq).toHaveLength(letters.length);
    const first = dlq.find((r) => r.headers?.[DEAD_LETTER_HEADERS.code] === 'malformed_json')!;
    const source = log.get('events', Number(first.headers![DEAD_LETTER_HEADERS.sourcePartition]), first.headers![DEAD_LETTER_HEADERS.sourceOffset]!)!;
    expect(first.value).toEqual(source.value);
    expect(first.headers![DEAD_LETTER_HEADERS.reason]).toMatch(/not valid JSON/);
    expect(first.headers![DEAD_LETTER_HEADERS.sourceTopic]).toBe('events');
  });

  it('starts from the horizon: records below it are the batch layer\'s', async () => {
    const log = new InProcessLog({ events: 2 });
    log.appendMany('events', take(sensorMessages({ seed: 5, jitterMs: 30 * 60_000 }), 1000));
    const records = [0, 1].map((p) => log.read('events', p));
    const horizon = referenceHorizon('events', records, [200, 350], domain.schema);
    const layer = layerOn(log, 'events', { horizon });
    await layer.start();
    await layer.caughtUp();
    const views = layer.partitions();
    expect(views.map((v) => v.baseOffset)).toEqual(['200', '350']);
    expectExact(layer, log, 'events');
    // batch(prefix) + speed(rest) = everything (no event late enough to be rejected here).
    for (const spec of domain.views) {
      for (const v of views) {
        const union = mergeViewRows(spec, batchFold(records[v.partition]!, Number(v.baseOffset), spec, domain.schema), v.views[spec.name]!);
        const all = batchFold(records[v.partition]!, Number.MAX_SAFE_INTEGER, spec, domain.schema);
        expect(diffViews([spec], { [spec.name]: all }, { [spec.name]: union })).toEqual([]);
      }
    }
  });

  it('rebuilds at a new horizon with a new epoch: refold within what was read, seek beyond it or below the base', async () => {
    const log = new InProcessLog({ events: 3 });
    const gen = sensorMessages({ seed: 9, jitterMs: 2 * HOUR, late: 0.02 });
    log.appendMany('events', take(gen, 1500));
    const h0 = referenceHorizon('events', [0, 1, 2].map((p) => log.read('events', p)), [100, 100, 100], domain.schema);
    const layer = layerOn(log, 'events', { horizon: h0 });
    await layer.start();
    await layer.caughtUp();
    const before = new Map(layer.partitions().map((v) => [v.partition, v]));
    // p0 moves forward within what was read (refold), p1 beyond what exists now (seek forward),
    // p2 backwards below the base (seek back).
    log.appendMany('events', take(gen, 30), { partition: 1 });
    const records = [0, 1, 2].map((p) => log.read('events', p));
    const h1 = referenceHorizon('events', records, [300, 520, 50], domain.schema);
    layer.setHorizon(h1);
    expect(layer.status().rebuilds).toEqual({ refold: 1, seek: 2 });
    const p0 = layer.partition('events', 0)!;
    expect(p0.baseOffset).toBe('300');
    expect(p0.nextOffset).toBe('500');
    expect(p0.epoch).not.toBe(before.get(0)!.epoch);
    expectExact(layer, log, 'events');
    log.appendMany('events', take(gen, 300));
    await layer.caughtUp();
    const after = layer.partitions();
    expect(after.map((v) => v.baseOffset)).toEqual(['300', '520', '50']);
    expectExact(layer, log, 'events');
  });

  it('falls back to seeking when the replay buffer no longer reaches the new horizon', async () => {
    const log = new InProcessLog({ events: 1 });
    const gen = sensorMessages({ seed: 2 });
    log.appendMany('events', take(gen, 20_000));
    const layer = layerOn(log, 'events', { replayBufferRecords: 5000 });
    await layer.start();
    await layer.caughtUp();
    expect(layer.status().bufferedRecords).toBeLessThanOrEqual(5000 + 4096);
    const records = [log.read('events', 0)];
    layer.setHorizon(referenceHorizon('events', records, [1000], domain.schema));
    expect(layer.status().rebuilds).toEqual({ refold: 0, seek: 1 });
    await layer.caughtUp();
    expectExact(layer, log, 'events');
    layer.setHorizon(referenceHorizon('events', records, [19_000], domain.schema));
    expect(layer.status().rebuilds).toEqual({ refold: 1, seek: 1 });
    expectExact(layer, log, 'events');
  });

  it('evicts windows older than the retention and emits their removal', async () => {
    const log = new InProcessLog({ events: 1 });
    // One event every ~30 s for 5 hours; retention 2h, so old 5-minute windows go.
    const gen = sensorMessages({ seed: 4, stepMs: 30_000, sensors: 3 });
    const layer = layerOn(log, 'events', { allowedLateness: '10m', retention: '2h', emitIntervalMs: 0 });
    const removed: string[] = [];
    layer.deltas.subscribe((d) => d.updated.forEach((u) => removed.push(...(u.removed.sensor_5min ?? []))));
    await layer.start();
    for (let i = 0; i < 10; i++) {
      log.appendMany('events', take(gen, 60));
      await layer.caughtUp();
    }
    const view = layer.partition('events', 0)!;
    const rows = view.views.sensor_5min!;
    expect(rows[0]!.windowStart + 5 * 60_000).toBeGreaterThan(view.maxEventTime! - 2 * HOUR);
    expect(view.maxEventTime! - T0).toBeGreaterThan(4 * HOUR);
    expectExact(layer, log, 'events', ref({ lateness: 10 * 60_000, retention: 2 * HOUR }));
    expect(layer.status().eventsTotal).toBe(600);
    expect(rows.length).toBeLessThanOrEqual(3 * 25);
    expect(removed.length).toBeGreaterThan(3 * 20);
    expect(new Set(removed).size).toBe(removed.length);
    for (const key of removed) expect(rows.some((r) => `${r.windowStart}|${JSON.stringify(r.dims)}` === key)).toBe(false);
  });

  it('restarts exactly after dying mid-stream, without re-sending delivered dead letters', async () => {
    const log = new InProcessLog({ events: 2 });
    const gen = sensorMessages({ seed: 21, malformed: 0.02 });
    log.appendMany('events', take(gen, 1000));
    const horizon = referenceHorizon('events', [0, 1].map((p) => log.read('events', p)), [100, 0], domain.schema);
    const source = inProcessSource(log, { topic: 'events', deadLetterTopic: 'events.dlq' });
    const first = createSpeedLayer({ source, horizon, commitIntervalMs: 1 });
    await first.start();
    await first.caughtUp();
    await new Promise((r) => setTimeout(r, 20)); // a commit round
    const committed = [0, 1].map((p) => log.committedOffset('lambdaline-speed', 'events', p));
    expect(committed).toEqual(['500', '500']);
    // The process dies: its source stops delivering; nothing is flushed, committed or stopped.
    await source.stop();
    log.appendMany('events', take(gen, 500));
    const dlqBefore = log.read('events.dlq', 0).length;
    const second = layerOn(log, 'events', { horizon });
    await second.start();
    await second.caughtUp();
    expectExact(second, log, 'events');
    expect(second.partitions().map((v) => v.nextOffset)).toEqual(['750', '750']);
    const resent = log.read('events.dlq', 0).slice(dlqBefore).map((r) => Number(r.headers![DEAD_LETTER_HEADERS.sourceOffset]));
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((o) => o >= 500)).toBe(true);
    const offsets = log.read('events.dlq', 0).map((r) => `${r.headers![DEAD_LETTER_HEADERS.sourcePartition]}:${r.headers![DEAD_LETTER_HEADERS.sourceOffset]}`);
    expect(new Set(offsets).size).toBe(offsets.length);
    const expected = referencePartition(log.read('events', 0), 100, 1e9, ref()).invalid.length + referencePartition(log.read('events', 1), 0, 1e9, ref()).invalid.length;
    expect(offsets.length).toBe(expected);
  });

  it('rejects bad options with ConfigErrors naming them', () => {
    const log = new InProcessLog({ events: 1 });
    const source = inProcessSource(log, { topic: 'events' });
    const attempt = (o: Partial<SpeedLayerOptions>) => () => createSpeedLayer({ source, ...o });
    expect(attempt({ retention: '10m', allowedLateness: '1h' })).toThrow(ConfigError);
    expect(attempt({ retention: '10m', allowedLateness: '1h' })).toThrow(/^retention:/);
    expect(attempt({ allowedLateness: 'soon' as never })).toThrow(/^allowedLateness:/);
    expect(attempt({ replayBufferRecords: -1 })).toThrow(/^replayBufferRecords:/);
    expect(attempt({ source: {} as never })).toThrow(/^source:/);
    expect(() => createSpeedLayer({ source, domain: { schema: domain.schema, views: [{ ...domain.views[0]!, window: '7m' }] } })).toThrow(/views\[0\]\.window/);
    expect(() => createSpeedLayer({ source }).view('nope')).toThrow(/^name: no view "nope"/);
    expect(() => inProcessSource(log, { topic: '' })).toThrow(/^topic:/);
    expect(() => log.append('missing', 'x')).toThrow(ConfigError);
    expect(() => createSpeedLayer({ source, horizon: { partitions: [{ topic: 'events', partition: 0, endOffset: 'x', maxEventTime: null }], maxEventTime: null } as never })).toThrow(/endOffset/);
  });

  it('an empty horizon and an unknown topic partition start at offset 0', async () => {
    const log = new InProcessLog({ events: 1 });
    log.appendMany('events', take(sensorMessages({ seed: 1 }), 10));
    const layer = layerOn(log, 'events', { horizon: makeHorizon([{ topic: 'other', partition: 0, endOffset: '5', maxEventTime: null }]) });
    await layer.start();
    await layer.caughtUp();
    expect(layer.partition('events', 0)!.baseOffset).toBe('0');
    expect(layer.horizon()).not.toEqual(emptyHorizon());
    const rows: ViewRow[] = layer.view('daily_by_category');
    expect(rows.reduce((n, r) => n + (r.parts.record_count as { count: number }).count, 0)).toBe(10);
  });

  it('follows a batch layer: starts from its latest snapshot and rebuilds on each new one', async () => {
    const log = new InProcessLog({ events: 2 });
    const gen = sensorMessages({ seed: 12 });
    log.appendMany('events', take(gen, 400));
    const snapshots = new Subject<BatchSnapshot>();
    const snapshot = (version: number, ends: number[]): BatchSnapshot => ({
      version,
      createdAt: new Date().toISOString(),
      horizon: referenceHorizon('events', [0, 1].map((p) => log.read('events', p)), ends, domain.schema),
      views: {},
    });
    let latest: BatchSnapshot | null = snapshot(1, [50, 60]);
    const layer = layerOn(log, 'events', { batchSnapshots: { latest: () => latest, snapshots } });
    await layer.start();
    await layer.caughtUp();
    expect(layer.partitions().map((v) => v.baseOffset)).toEqual(['50', '60']);
    latest = snapshot(2, [150, 160]);
    snapshots.next(latest);
    expect(layer.partitions().map((v) => v.baseOffset)).toEqual(['150', '160']);
    expectExact(layer, log, 'events');
  });

  it('keeps and retries dead letters whose delivery fails, reports it, and never commits past them', async () => {
    const log = new InProcessLog({ events: 1 });
    log.appendMany('events', take(sensorMessages({ seed: 8 }), 50));
    log.append('events', '{"broken');
    log.appendMany('events', take(sensorMessages({ seed: 9 }), 50));
    let failures = 3;
    const delivered: DeadLetterRecord[] = [];
    const sink = {
      description: 'flaky test sink',
      async deliver(records: readonly DeadLetterRecord[]) {
        if (failures-- > 0) throw new Error('broker unavailable');
        delivered.push(...records);
      },
    };
    const layer = layerOn(log, 'events', { deadLetterSink: sink, commitIntervalMs: 5 });
    const errors: SpeedLayerError[] = [];
    layer.errors.subscribe((e) => errors.push(e));
    await layer.start();
    await new Promise((r) => setTimeout(r, 60));
    // Still failing: the letter is held, the error is visible, the commit stops before it.
    expect(layer.status().deadLetterBacklog).toBe(1);
    expect(layer.status().errors.at(-1)).toMatchObject({ code: 'dead_letter_delivery', retriable: true });
    expect(errors[0]!.message).toMatch(/flaky test sink failed .*broker unavailable/);
    expect(log.committedOffset('lambdaline-speed', 'events', 0)).toBe('50'); // below the undelivered letter at 50
    expect(layer.partition('events', 0)!.nextOffset).toBe('101'); // folding went on meanwhile
    await layer.caughtUp();
    expect(delivered.map((d) => d.offset)).toEqual(['50']);
    expect(delivered[0]!.value).toBe('{"broken');
    await new Promise((r) => setTimeout(r, 30));
    expect(log.committedOffset('lambdaline-speed', 'events', 0)).toBe('101');
  });
});
