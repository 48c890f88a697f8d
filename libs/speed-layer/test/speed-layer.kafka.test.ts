/**
 * Against the real broker: generated events (with malformed, invalid and late
 * ones) folded by the Kafka source equal an independent fold; rejected records
 * reach the dead-letter topic with their bytes and reasons; a horizon advance
 * mid-stream keeps batch(prefix) + speed(rest) equal to the fold over all.
 */
import { DEAD_LETTER_HEADERS, defaultDomain, mergeViewRows, resolveDomain } from '@lambdaline/core';
import { describe, expect, it } from 'vitest';
import { createSpeedLayer, kafkaSource, type SpeedLayer } from '../src/index.js';
import { sensorMessages, take } from './helpers/events.js';
import { kafkaTestEnv, randomName } from './helpers/kafka.js';
import { batchFold, defaultRef, diffViews, HOUR, referenceHorizon, referencePartition } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);
const ref = defaultRef();

const { env, layers } = kafkaTestEnv();

function start(topic: string, options: { horizon?: ReturnType<typeof referenceHorizon>; groupId?: string } = {}): SpeedLayer {
  const deadLetterTopic = env.track(`${topic}.dead-letters`);
  const layer = createSpeedLayer({
    source: kafkaSource({ topic, groupId: options.groupId ?? randomName('speed'), deadLetterTopic, consumer: { maxWaitTimeInMs: 250 } }),
    ...(options.horizon ? { horizon: options.horizon } : {}),
  });
  layers.push(layer);
  return layer;
}

describe('speed layer on Kafka', () => {
  it('views equal an independent fold; rejected records reach the dead-letter topic with reasons', async () => {
    const topic = await env.topic('events', 3);
    const values = take(sensorMessages({ seed: 101, malformed: 0.03, invalid: 0.03, late: 0.03, lateByMs: 3 * HOUR, jitterMs: 10 * 60_000 }), 3000);
    await env.produce(topic, values, 3);
    const layer = start(topic);
    await layer.start();
    await layer.caughtUp();
    const records = await env.readAll(topic);
    const rejected = new Set<string>();
    for (const view of layer.partitions()) {
      expect(view.nextOffset).toBe(String(records[view.partition]!.length));
      const expected = referencePartition(records[view.partition]!, 0, Number(view.nextOffset), ref);
      expect(diffViews(domain.views, expected.views, view.views), `partition ${view.partition}`).toEqual([]);
      for (const o of [...expected.invalid, ...expected.tooLate]) rejected.add(`${view.partition}:${o}`);
    }
    expect(layer.partitions()).toHaveLength(3);
    // Dead letters: one per rejected record, original bytes, reasons in headers.
    const [dlq] = await env.readAll(`${topic}.dead-letters`);
    const got = dlq!.map((r) => `${r.headers[DEAD_LETTER_HEADERS.sourcePartition]}:${r.headers[DEAD_LETTER_HEADERS.sourceOffset]}`);
    expect(got.sort()).toEqual([...rejected].sort());
    for (const r of dlq!) {
      const p = Number(r.headers[DEAD_LETTER_HEADERS.sourcePartition]);
      const source = records[p]!.find((x) => x.offset === r.headers[DEAD_LETTER_HEADERS.sourceOffset])!;
      expect(r.value?.equals(source.value!)).toBe(true);
      expect(r.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topic);
      expect(r.headers[DEAD_LETTER_HEADERS.reason]!.length).toBeGreaterThan(5);
      expect(Number.isNaN(Date.parse(r.headers[DEAD_LETTER_HEADERS.rejectedAt]!))).toBe(false);
    }
    const codes = new Map<string, number>();
    for (const r of dlq!) codes.set(r.headers[DEAD_LETTER_HEADERS.code]!, (codes.get(r.headers[DEAD_LETTER_HEADERS.code]!) ?? 0) + 1);
    expect(codes.get('too_late')).toBeGreaterThan(20);
    expect(codes.get('malformed_json')).toBeGreaterThan(20);
    expect(dlq!.find((r) => r.headers[DEAD_LETTER_HEADERS.code] === 'too_late')!.headers[DEAD_LETTER_HEADERS.field]).toBe('ts');
    expect(layer.status().deadLetters).toEqual(Object.fromEntries(codes));
    expect(layer.status().deadLetterBacklog).toBe(0);
  });

  it('a horizon advance mid-stream: batch(prefix) + speed(rest) equals the fold over all', async () => {
    const topic = await env.topic('events', 2);
    const gen = sensorMessages({ seed: 202, jitterMs: 10 * 60_000, malformed: 0.01 });
    await env.produce(topic, take(gen, 1000), 2);
    const h0 = referenceHorizon(topic, await env.readAll(topic), [200, 300], domain.schema);
    const layer = start(topic, { horizon: h0 });
    await layer.start();
    // Keep producing while the horizon moves.
    const producing = env.produce(topic, take(gen, 2000), 2, 100);
    await layer.caughtUp();
    const records = await env.readAll(topic);
    const h1 = referenceHorizon(topic, records, records.map((rs) => Math.floor(rs.length * 0.8)), domain.schema);
    layer.setHorizon(h1);
    await producing;
    await env.produce(topic, take(gen, 500), 2);
    await layer.caughtUp();
    const all = await env.readAll(topic);
    for (const view of layer.partitions()) {
      const p = view.partition;
      expect(view.baseOffset).toBe(h1.partitions.find((x) => x.partition === p)!.endOffset);
      expect(view.nextOffset).toBe(String(all[p]!.length));
      for (const spec of domain.views) {
        const union = mergeViewRows(spec, batchFold(all[p]!, Number(view.baseOffset), spec, domain.schema), view.views[spec.name]!);
        const whole = batchFold(all[p]!, Number.MAX_SAFE_INTEGER, spec, domain.schema);
        expect(diffViews([spec], { [spec.name]: whole }, { [spec.name]: union }), `partition ${p} ${spec.name}`).toEqual([]);
      }
      const expected = referencePartition(all[p]!, Number(view.baseOffset), Number(view.nextOffset), ref);
      expect(diffViews(domain.views, expected.views, view.views)).toEqual([]);
    }
    expect(layer.status().rebuilds.refold + layer.status().rebuilds.seek).toBe(2);
  });
});
