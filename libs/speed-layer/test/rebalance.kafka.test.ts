/**
 * Two instances in one consumer group split a 4-partition topic; the union of
 * their views is exact while events keep coming, revoked partitions are
 * announced and dropped, and when one leaves the other takes everything over
 * from the horizon, still exact.
 */
import { defaultDomain, resolveDomain, type SpeedChange } from '@lambdaline/core';
import { describe, expect, it } from 'vitest';
import { createSpeedLayer, kafkaSource, type SpeedLayer } from '../src/index.js';
import { sensorMessages, take } from './helpers/events.js';
import { kafkaTestEnv, randomName, until } from './helpers/kafka.js';
import { defaultRef, diffViews, referenceHorizon, referencePartition } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);
const ref = defaultRef();

const { env, layers } = kafkaTestEnv();

describe('rebalance with two instances', () => {
  it('the union of both instances\' views stays exact across a rebalance and a hand-over', async () => {
    const topic = await env.topic('rebalance', 4);
    env.track(`${topic}.dead-letters`);
    const groupId = randomName('rebalance');
    const gen = sensorMessages({ seed: 404, malformed: 0.01, jitterMs: 10 * 60_000 });
    await env.produce(topic, take(gen, 2000), 4);
    const horizon = referenceHorizon(topic, await env.readAll(topic), [100, 200, 0, 50], domain.schema);
    const make = () => {
      const layer = createSpeedLayer({
        source: kafkaSource({ topic, groupId, consumer: { maxWaitTimeInMs: 200, heartbeatInterval: 300 } }),
        horizon,
      });
      layers.push(layer);
      return layer;
    };
    const held = (layer: SpeedLayer) => layer.partitions().map((v) => v.partition);

    const a = make();
    const changesA: SpeedChange[] = [];
    a.changes.subscribe((c) => changesA.push(c));
    await a.start();
    await a.caughtUp();
    expect(held(a).sort()).toEqual([0, 1, 2, 3]);

    const b = make();
    const producing = (async () => {
      for (let i = 0; i < 10; i++) await env.produce(topic, take(gen, 100), 4);
    })();
    await b.start();
    await until('the group to split the partitions', () => {
      const pa = held(a);
      const pb = held(b);
      return pa.length > 0 && pb.length > 0 && pa.length + pb.length === 4 && new Set([...pa, ...pb]).size === 4;
    });
    await producing;
    await Promise.all([a.caughtUp(), b.caughtUp()]);

    const check = async (instances: SpeedLayer[]) => {
      const records = await env.readAll(topic);
      const views = instances.flatMap((l) => l.partitions());
      expect(views.map((v) => v.partition).sort()).toEqual([0, 1, 2, 3]); // each partition held exactly once
      for (const view of views) {
        expect(view.baseOffset).toBe(horizon.partitions.find((p) => p.partition === view.partition)?.endOffset ?? '0');
        expect(view.nextOffset).toBe(String(records[view.partition]!.length));
        const expected = referencePartition(records[view.partition]!, Number(view.baseOffset), Number(view.nextOffset), ref);
        expect(diffViews(domain.views, expected.views, view.views), `partition ${view.partition}`).toEqual([]);
      }
    };
    await check([a, b]);
    const revoked = changesA.flatMap((c) => c.removed.map((r) => r.partition));
    expect(revoked.sort()).toEqual([0, 1, 2, 3].filter((p) => !held(a).includes(p)));

    // A leaves: B takes every partition over, rebuilt from the horizon.
    await a.stop();
    await env.produce(topic, take(gen, 400), 4);
    await until('B to hold every partition', () => held(b).length === 4);
    await b.caughtUp();
    await check([b]);
  });
});
