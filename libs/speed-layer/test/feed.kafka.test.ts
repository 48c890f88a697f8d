/**
 * The speed views published to a compacted topic, read back with core's
 * SpeedFeedReader, equal the in-memory views — through appends, evictions and
 * a horizon change (new epochs).
 */
import { ConfigResourceTypes } from 'kafkajs';
import { defaultDomain, resolveDomain, SpeedFeedReader } from '@lambdaline/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createSpeedLayer, kafkaSource, publishSpeedFeed, type SpeedFeedPublisher, type SpeedLayer } from '../src/index.js';
import { sensorMessages, take } from './helpers/events.js';
import { randomName, TestKafka } from './helpers/kafka.js';
import { diffViews, referenceHorizon } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);
const env = new TestKafka();
let layer: SpeedLayer | undefined;
let publisher: SpeedFeedPublisher | undefined;
afterAll(async () => {
  await publisher?.stop();
  await layer?.stop();
  await env.cleanup();
});

async function readFeed(topic: string): Promise<SpeedFeedReader> {
  const reader = new SpeedFeedReader();
  for (const partition of await env.readAll(topic)) {
    for (const record of partition) reader.apply(record.key!.toString('utf8'), record.value === null ? null : record.value.toString('utf8'));
  }
  return reader;
}

describe('speed feed on a compacted topic', () => {
  it('a SpeedFeedReader of the topic holds exactly the in-memory views', async () => {
    const topic = await env.topic('feed-src', 3);
    env.track(`${topic}.dead-letters`);
    const feedTopic = env.track(randomName('speed-feed'));
    const gen = sensorMessages({ seed: 505, stepMs: 20_000, jitterMs: 5 * 60_000, malformed: 0.01 });
    await env.produce(topic, take(gen, 1500), 3);
    layer = createSpeedLayer({
      source: kafkaSource({ topic, groupId: randomName('feed'), consumer: { maxWaitTimeInMs: 200 } }),
      allowedLateness: '30m',
      retention: '3h',
    });
    await layer.start();
    publisher = await publishSpeedFeed(layer, { topic: feedTopic, partitions: 2, flushIntervalMs: 50 });

    const compare = async () => {
      await layer!.caughtUp();
      await publisher!.flush();
      const reader = await readFeed(feedTopic);
      const fromFeed = new Map(reader.views().map((v) => [v.partition, v]));
      const held = layer!.partitions();
      expect(held).toHaveLength(3);
      for (const view of held) {
        const got = fromFeed.get(view.partition)!;
        expect({ epoch: got.epoch, seq: got.seq, base: got.baseOffset, next: got.nextOffset }).toEqual({ epoch: view.epoch, seq: view.seq, base: view.baseOffset, next: view.nextOffset });
        expect(diffViews(domain.views, view.views, got.views), `partition ${view.partition}`).toEqual([]);
        for (const spec of domain.views) expect(got.views[spec.name]?.length ?? 0).toBe(view.views[spec.name]!.length);
      }
    };
    await compare();
    await env.produce(topic, take(gen, 1500), 3); // 5+ more hours of event time: old windows get evicted
    await compare();
    const records = await env.readAll(topic);
    layer.setHorizon(referenceHorizon(topic, records, records.map((rs) => Math.floor(rs.length / 2)), domain.schema));
    await env.produce(topic, take(gen, 300), 3);
    await compare();
    expect(publisher.status().messagesPublished).toBeGreaterThan(0);

    const [config] = (await env.admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: feedTopic, configNames: ['cleanup.policy'] }], includeSynonyms: false })).resources;
    expect(config!.configEntries.find((e) => e.configName === 'cleanup.policy')!.configValue).toBe('compact');
    const all = await env.readAll(feedTopic);
    expect(all.flat().some((r) => r.value === null)).toBe(true); // evicted rows and stale keys are tombstoned
  });
});
