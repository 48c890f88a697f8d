/**
 * The generated hot paths (ViewState's `add` and `toRow`, the replay buffer's
 * `write`) against the generic code they replace, on a domain that exercises
 * what the default one does not: several dimensions of every groupable type,
 * none at all, optional fields absent or null, every measure op, a count over
 * a string field. Then the whole speed layer on that domain against the
 * independent reference fold, and the batch loop's offset handling (offsets
 * derived when a batch is consecutive, read one by one when it has gaps,
 * overlaps with what was already folded).
 */
import { defaultDomain, foldEvents, parseEvent, resolveDomain, type LambdaEvent, type ResolvedDomain } from '@lambdaline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpeedLayer, InProcessLog, inProcessSource, type DeadLetterRecord, type SourceHandler, type SpeedLayer, type SpeedSource } from '../src/index.js';
import { Projection, ReplayBuffer } from '../src/replay-buffer.js';
import { ViewState } from '../src/view-state.js';
import { mulberry32, sensorMessages, T0, take } from './helpers/events.js';
import { diffViews, referencePartition, type RefOptions } from './helpers/reference.js';

const domain: ResolvedDomain = resolveDomain({
  schema: {
    name: 'order',
    timeField: 'at',
    fields: {
      id: { type: 'string' },
      at: { type: 'timestamp' },
      region: { type: 'string', enum: ['north', 'south', 'east'] },
      zone: { type: 'integer', required: false, min: 0, max: 9 },
      express: { type: 'boolean', required: false },
      amount: { type: 'number', required: false },
      qty: { type: 'integer', min: 1, max: 50 },
      note: { type: 'string', required: false },
    },
  },
  views: [
    {
      name: 'by_region_zone_express',
      window: '1h',
      dimensions: ['region', 'zone', 'express'],
      measures: [
        { name: 'total', op: 'sum', field: 'amount' },
        { name: 'lowest', op: 'min', field: 'amount' },
        { name: 'highest', op: 'max', field: 'amount' },
        { name: 'mean_qty', op: 'avg', field: 'qty' },
        { name: 'orders', op: 'count' },
        { name: 'with_note', op: 'count', field: 'note' },
        { name: 'zone_sum', op: 'sum', field: 'zone' },
      ],
    },
    { name: 'daily', window: '1d', dimensions: [], measures: [{ name: 'orders', op: 'count' }, { name: 'amount_avg', op: 'avg', field: 'amount' }] },
    { name: 'by_zone', window: '15m', dimensions: ['zone'], measures: [{ name: 'max_qty', op: 'max', field: 'qty' }] },
  ],
});

/** Seeded orders; optional fields are absent, null or set. Some too late, some malformed. */
function orders(seed: number, n: number, late = 0): string[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: string[] = [];
  let clock = T0;
  for (let i = 0; i < n; i++) {
    clock += Math.floor(rnd() * 90_000);
    if (rnd() < 0.02) {
      out.push(`{"id":"bad-${i}","at":`);
      continue;
    }
    const event: Record<string, unknown> = {
      id: `o-${seed}-${i}`,
      at: new Date(rnd() < late ? clock - 5 * 3_600_000 : clock - Math.floor(rnd() * 600_000)).toISOString(),
      region: pick(['north', 'south', 'east']),
      qty: 1 + Math.floor(rnd() * 50),
    };
    const optional = (name: string, value: () => unknown) => {
      const r = rnd();
      if (r < 0.2) return; // absent
      event[name] = r < 0.35 ? null : value();
    };
    optional('zone', () => Math.floor(rnd() * 10));
    optional('express', () => rnd() < 0.5);
    optional('amount', () => Math.round((rnd() - 0.3) * 100_000) / 100);
    optional('note', () => pick(['gift', 'fragile', '']));
    out.push(JSON.stringify(event));
  }
  return out;
}

function validEvents(values: readonly string[], schema = domain.schema): Array<{ event: LambdaEvent; eventTime: number }> {
  const out: Array<{ event: LambdaEvent; eventTime: number }> = [];
  for (const v of values) {
    const r = parseEvent(schema, v);
    if (r.ok) out.push({ event: r.event, eventTime: r.eventTime });
  }
  return out;
}

describe('generated view code', () => {
  for (const d of [domain, resolveDomain(defaultDomain)]) {
    it(`folds exactly as the generic code (${d.schema.name}: ${d.views.map((v) => v.name).join(', ')})`, () => {
      const events =
        d === domain
          ? validEvents(orders(11, 4000))
          : validEvents(
              Array.from({ length: 3000 }, (_, i) =>
                JSON.stringify({ event_id: `e${i}`, ts: new Date(T0 + i * 7_000).toISOString(), sensor_id: `sensor_${1 + (i % 13)}`, category: 'ABCD'[i % 4], value1: ((i * 37) % 1000) / 8, value2: 1 + (i % 99), status: 'OK' }),
              ),
              d.schema,
            );
      for (const spec of d.views) {
        const generated = new ViewState(spec);
        const generic = new ViewState(spec, false);
        expect(generated.add).not.toBe(generic.add);
        events.forEach(({ event, eventTime }, i) => {
          generated.add(event, eventTime);
          generic.add(event, eventTime);
          if (i % 700 === 0) {
            // Same deltas, byte for byte (key order included), at every flush.
            expect(JSON.stringify(generated.flush())).toBe(JSON.stringify(generic.flush()));
          }
          if (i === 2500) {
            const end = eventTime - 3 * spec.windowMs;
            expect(generated.evictWindowsEndingBy(end)).toBe(generic.evictWindowsEndingBy(end));
          }
        });
        expect(JSON.stringify(generated.flush())).toBe(JSON.stringify(generic.flush()));
        expect(JSON.stringify(generated.rows())).toBe(JSON.stringify(generic.rows()));
        expect(generated.size).toBe(generic.size);
      }
    });
  }

  it('equals core foldEvents on a domain with optional fields and every op', () => {
    const events = validEvents(orders(5, 3000));
    for (const spec of domain.views) {
      const state = new ViewState(spec);
      for (const { event, eventTime } of events) state.add(event, eventTime);
      state.flush();
      expect(diffViews([spec], { [spec.name]: foldEvents(spec, events.map((e) => e.event)) }, { [spec.name]: [...state.rows()] })).toEqual([]);
    }
  });

  it('the replay buffer stores and refolds the same records with generated and generic writes', () => {
    const events = validEvents(orders(23, 3000));
    const fast = new ReplayBuffer(new Projection(domain.schema, domain.views), 0);
    const slow = new ReplayBuffer(new Projection(domain.schema, domain.views, false), 0);
    events.forEach(({ event, eventTime }, i) => {
      fast.push(i, eventTime, event);
      slow.push(i, eventTime, event);
    });
    const a = [...fast.records()];
    const b = [...slow.records()];
    expect(a).toEqual(b);
    // Refolding the projected records gives the views of the full events.
    for (const spec of domain.views) {
      const refolded = new ViewState(spec);
      for (const r of a) refolded.add(r.event, r.eventTime);
      refolded.flush();
      expect(diffViews([spec], { [spec.name]: foldEvents(spec, events.map((e) => e.event)) }, { [spec.name]: [...refolded.rows()] })).toEqual([]);
    }
  });
});

describe('speed layer on a domain with several dimensions and optional fields', () => {
  const layers: SpeedLayer[] = [];
  afterEach(async () => {
    await Promise.all(layers.splice(0).map((l) => l.stop()));
  });

  it('every partition equals the reference fold, before and after a refold from the replay buffer', async () => {
    const log = new InProcessLog({ orders: 3 });
    log.appendMany('orders', orders(3, 3000, 0.03));
    const layer = createSpeedLayer({ source: inProcessSource(log, { topic: 'orders', maxBatchRecords: 97 }), domain, allowedLateness: '2h', retention: '1d', emitIntervalMs: 0 });
    layers.push(layer);
    await layer.start();
    await layer.caughtUp();
    const ref: RefOptions = { schema: domain.schema, views: domain.views, allowedLatenessMs: 2 * 3_600_000, retentionMs: 86_400_000 };
    const check = () => {
      for (const view of layer.partitions()) {
        const expected = referencePartition(log.read('orders', view.partition), Number(view.baseOffset), Number(view.nextOffset), ref);
        expect(diffViews(domain.views, expected.views, view.views), `partition ${view.partition}`).toEqual([]);
        expect(view.maxEventTime).toBe(expected.maxEventTime);
      }
    };
    check();
    expect(layer.status().deadLetters.too_late).toBeGreaterThan(0);
    const { makeHorizon } = await import('@lambdaline/core');
    const horizon = makeHorizon(
      [0, 1, 2].map((p) => {
        const records = log.read('orders', p);
        const end = 400 + p * 111;
        let max: number | null = null;
        for (const r of records.slice(0, end)) {
          const parsed = parseEvent(domain.schema, r.value);
          if (parsed.ok && (max === null || parsed.eventTime > max)) max = parsed.eventTime;
        }
        return { topic: 'orders', partition: p, endOffset: String(end), maxEventTime: max };
      }),
    );
    layer.setHorizon(horizon);
    expect(layer.status().rebuilds.refold).toBe(3);
    check();
    log.appendMany('orders', orders(4, 600));
    await layer.caughtUp();
    check();
  });
});

describe('offsets in a batch', () => {
  it('folds consecutive, overlapping and gapped batches exactly once per offset', async () => {
    // A source whose batches we write by hand: what kafkajs hands over after compaction or
    // transaction markers (gaps), and after a re-fetch from below what was read (overlap).
    let handler!: SourceHandler;
    const delivered: DeadLetterRecord[] = [];
    const source: SpeedSource = {
      kind: 'test',
      topic: 't',
      start: async (h) => {
        handler = h;
        h.assigned([{ topic: 't', partition: 0 }]);
      },
      seek: () => undefined,
      committed: async (_topic, partitions) => new Map(partitions.map((p) => [p, null])),
      commit: async () => undefined,
      endOffsets: async () => new Map([[0, '16']]),
      deadLetterSink: () => ({ description: 'test', deliver: async (records) => void delivered.push(...records) }),
      stop: async () => undefined,
    };
    const sensor = resolveDomain(defaultDomain);
    const values = take(sensorMessages({ seed: 9, jitterMs: 30_000 }), 16);
    values[10] = '{"event_id":"x","ts":'; // malformed, at an offset only a gapped batch holds
    const log = new Map<number, string>();
    const batch = (offsets: number[]) => {
      for (const o of offsets) log.set(o, values[o]!);
      return handler.batch({
        topic: 't',
        partition: 0,
        fetchedOffset: String(offsets[0]),
        messages: offsets.map((o) => ({ offset: String(o), value: Buffer.from(values[o]!) })),
        lastOffset: String(offsets[offsets.length - 1]),
        highWatermark: '16',
        isStale: () => false,
      });
    };
    const layer = createSpeedLayer({ source, emitIntervalMs: 0 });
    layers.push(layer);
    await layer.start();
    await batch([0, 1, 2, 3, 4]);
    await batch([3, 4, 5, 6]); // overlap, consecutive: 3 and 4 are skipped
    await batch([7, 9, 10, 14]); // gaps: 8, 11, 12, 13 do not exist
    await batch([9, 10, 14, 15]); // gaps and overlap: only 15 is new
    await batch([14, 15]); // consecutive, entirely below next
    const view = layer.partition('t', 0)!;
    expect(view.nextOffset).toBe('16');
    const records = [...log].sort((a, b) => a[0] - b[0]).map(([offset, value]) => ({ offset: String(offset), value }));
    const ref: RefOptions = { schema: sensor.schema, views: sensor.views, allowedLatenessMs: 3_600_000, retentionMs: 2 * 86_400_000 };
    const expected = referencePartition(records, 0, 16, ref);
    expect(diffViews(sensor.views, expected.views, view.views)).toEqual([]);
    expect(layer.status().eventsTotal).toBe(records.length - 1);
    await layer.caughtUp();
    expect(delivered.map((d) => [d.offset, d.letter.code])).toEqual([['10', 'malformed_json']]);
  });

  const layers: SpeedLayer[] = [];
  afterEach(async () => {
    await Promise.all(layers.splice(0).map((l) => l.stop()));
  });
});
