/**
 * speedFeedSource against the real broker: core speed-feed messages written to
 * a compacted topic with kafkajs are read back as the speed layer's partition
 * views (replayed history published only once caught up, then live marks,
 * a new epoch replacing a partition, a revoke), and a serving layer over it
 * answers over all events.
 */
import { randomUUID } from 'node:crypto';
import {
  diffViewRows,
  encodeSpeedFeedMark,
  encodeSpeedFeedRow,
  encodeSpeedFeedTombstone,
  rowKey,
  type SpeedChange,
  type SpeedFeedMessage,
  type SpeedPartitionView,
} from '@lambdaline/core';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServingLayer, inMemoryBatchSource, speedFeedSource, type SpeedFeedSource } from '../src/index.js';
import { foldAll, Log, snapshotOf, specs, speedViewOf, TOPIC, T0, waitFor } from './helpers.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const suffix = randomUUID();
const feedTopic = `lambdaline-serving-feed-${suffix}`;
// The views' source topic: a real topic too, so the source can report lag against its end offsets.
const sourceTopic = `lambdaline-serving-events-${suffix}`;
const kafka = new Kafka({ clientId: `lambdaline-serving-test-${suffix}`, brokers, logLevel: logLevel.NOTHING });

let admin: Admin;
let producer: Producer;
const sources: SpeedFeedSource[] = [];

/** The writer side of the feed for one partition view: changed rows, then the mark. */
function feedMessages(view: SpeedPartitionView, previous: SpeedPartitionView | null): SpeedFeedMessage[] {
  const out: SpeedFeedMessage[] = [];
  for (const spec of specs) {
    const before = new Map((previous?.epoch === view.epoch ? previous.views[spec.name] ?? [] : []).map((r) => [rowKey(r.windowStart, r.dims), r]));
    const now = view.views[spec.name] ?? [];
    for (const row of now) {
      const old = before.get(rowKey(row.windowStart, row.dims));
      if (!old || JSON.stringify(old.parts) !== JSON.stringify(row.parts)) out.push(encodeSpeedFeedRow(spec.name, view.topic, view.partition, row, view.epoch, view.seq));
    }
    const keys = new Set(now.map((r) => rowKey(r.windowStart, r.dims)));
    for (const key of before.keys()) if (!keys.has(key)) out.push(encodeSpeedFeedTombstone(spec.name, view.topic, view.partition, key));
  }
  out.push(
    encodeSpeedFeedMark({
      topic: view.topic, partition: view.partition, epoch: view.epoch, seq: view.seq, baseOffset: view.baseOffset,
      nextOffset: view.nextOffset, maxEventTime: view.maxEventTime, watermark: view.watermark, at: view.updatedAt,
    }),
  );
  return out;
}

/** The feed partition of a source partition: every message of one source partition goes to one feed partition. */
const feedPartition = (sourcePartition: number) => sourcePartition % 2;

async function write(messages: SpeedFeedMessage[], sourcePartition: number): Promise<void> {
  await producer.send({ topic: feedTopic, messages: messages.map((m) => ({ key: m.key, value: m.value, partition: feedPartition(sourcePartition) })) });
}

/** Rewrites a view's topic to the real source topic of this test. */
function onSource(view: SpeedPartitionView): SpeedPartitionView {
  return { ...view, topic: sourceTopic };
}

function sameView(actual: SpeedPartitionView | undefined, expected: SpeedPartitionView): void {
  expect(actual, `${expected.topic}[${expected.partition}]`).toBeDefined();
  expect({ ...actual!, views: undefined }).toEqual({ ...expected, views: undefined });
  for (const spec of specs) expect(diffViewRows(spec, expected.views[spec.name] ?? [], actual!.views[spec.name] ?? [])).toEqual([]);
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: feedTopic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: sourceTopic, numPartitions: 3, replicationFactor: 1 },
    ],
  });
  producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  for (const source of sources) await source.close().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.deleteTopics({ topics: [feedTopic, sourceTopic] }).catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
});

describe('speedFeedSource (real broker)', () => {
  const log = new Log();
  for (let i = 0; i < 90; i++) log.append(i % 3, T0 + i * 4 * 60_000, 1 + (i % 4), (i % 11) * 2.5);
  const ends = new Map([[0, 10], [1, 12], [2, 30]]);

  it('publishes the replayed feed only once caught up, then live marks, epochs and revokes', async () => {
    // History: partition 0 flushed three times (rows updated after the early marks), partition 1 twice.
    let p0 = onSource(speedViewOf(log, 0, 10, 15, 'e0', 1));
    await write(feedMessages(p0, null), 0);
    const p0b = onSource(speedViewOf(log, 0, 10, 22, 'e0', 2));
    await write(feedMessages(p0b, p0), 0);
    p0 = onSource(speedViewOf(log, 0, 10, 30, 'e0', 3));
    await write(feedMessages(p0, p0b), 0);
    let p1 = onSource(speedViewOf(log, 1, 12, 20, 'e1', 1));
    await write(feedMessages(p1, null), 1);
    const p1b = onSource(speedViewOf(log, 1, 12, 30, 'e1', 2));
    await write(feedMessages(p1b, p1), 1);
    p1 = p1b;
    // The source topic has a few more records than the speed layer folded: lag.
    await producer.send({ topic: sourceTopic, messages: Array.from({ length: 40 }, (_, i) => ({ partition: 0, value: `r${i}` })) });

    const errors: Error[] = [];
    const source = speedFeedSource({ brokers, topic: feedTopic, lagPollMs: 100, onError: (e) => errors.push(e) });
    sources.push(source);
    const changes: SpeedChange[] = [];
    source.changes.subscribe({ next: (c) => changes.push(c) });
    await source.start();
    await source.caughtUp();
    await waitFor(() => changes.length === 2, 'one change per feed partition');
    // Only final states were published, never a replayed intermediate one.
    expect(changes.flatMap((c) => c.updated.map((v) => `${v.partition}@${v.seq}`)).sort()).toEqual(['0@3', '1@2']);
    sameView(source.partitions().find((v) => v.partition === 0), p0);
    sameView(source.partitions().find((v) => v.partition === 1), p1);

    // A serving layer over it plus the matching snapshot answers over every record folded.
    const s1 = snapshotOf(log, 1, ends);
    const batch = inMemoryBatchSource({ ...s1, horizon: { ...s1.horizon, partitions: s1.horizon.partitions.map((p) => ({ ...p, topic: sourceTopic })) } });
    const serving = createServingLayer({ batch, speed: source, metrics: { defaultMetrics: false } });
    for (const spec of specs) expect(diffViewRows(spec, foldAll(spec, log.all()), serving.mergedRows(spec.name))).toEqual([]);
    expect(serving.consistency().mode).toBe('live');

    // Live: the speed layer folds three more records of partition 0 and flushes.
    for (let i = 0; i < 3; i++) log.append(0, T0 + (400 + i) * 60_000, 2, 100 + i);
    const p0next = onSource(speedViewOf(log, 0, 10, log.end(0), 'e0', 4));
    await write(feedMessages(p0next, p0), 0);
    await waitFor(() => source.partitions().find((v) => v.partition === 0)?.seq === 4, 'seq 4');
    sameView(source.partitions().find((v) => v.partition === 0), p0next);
    await waitFor(() => serving.consistency().partitions.find((p) => p.partition === 0)?.nextOffset === String(log.end(0)), 'serving follows');
    for (const spec of specs) expect(diffViewRows(spec, foldAll(spec, log.all()), serving.mergedRows(spec.name))).toEqual([]);

    // Lag against the source topic's end offset (40) from nextOffset (33): 7.
    await waitFor(() => source.status().partitions.find((p) => p.partition === 0)?.highWatermark === '40', 'lag known');
    expect(source.status().partitions.find((p) => p.partition === 0)).toMatchObject({ nextOffset: '33', lag: 7 });
    expect(source.status().partitions.find((p) => p.partition === 1)).toMatchObject({ highWatermark: '0', lag: 0 });

    // A new owner / new horizon: epoch e1' replaces partition 1 wholesale from base 20.
    const p1new = onSource(speedViewOf(log, 1, 20, log.end(1), 'e1-rebuilt', 1));
    await write(feedMessages(p1new, null), 1);
    await waitFor(() => source.partitions().find((v) => v.partition === 1)?.epoch === 'e1-rebuilt', 'new epoch');
    sameView(source.partitions().find((v) => v.partition === 1), p1new);
    // Not consistent with snapshot v1 (which ends at 12): the old view of partition 1 is used, frozen.
    expect(serving.consistency().partitions.find((p) => p.partition === 1)).toMatchObject({ state: 'frozen', epoch: 'e1' });

    // Revoke partition 0 for good (mark tombstone).
    await write([{ key: `mark|${sourceTopic}|0`, value: null }], 0);
    await waitFor(() => changes.some((c) => c.removed.some((r) => r.partition === 0)), 'removal');
    expect(source.partitions().map((v) => v.partition)).toEqual([1]);

    // A malformed message is skipped, counted and reported; reading goes on.
    await write([{ key: 'bogus|key', value: '{}' }], 1);
    const p1more = { ...p1new, seq: 2, nextOffset: String(log.end(1)) };
    await write(feedMessages(p1more, p1new), 1);
    await waitFor(() => source.partitions().find((v) => v.partition === 1)?.seq === 2, 'reading goes on');
    expect(source.malformedMessages()).toBe(1);
    expect(errors.some((e) => /bogus/.test(e.message))).toBe(true);
    serving.close();
  });

  it('a second source reading the same feed from the beginning sees the same final state', async () => {
    const source = speedFeedSource({ brokers: brokers.join(','), topic: feedTopic, lagPollMs: 0 });
    sources.push(source);
    await source.start();
    await source.caughtUp();
    expect(source.partitions().map((v) => [v.partition, v.epoch, v.seq])).toEqual([[1, 'e1-rebuilt', 2]]);
    await source.close();
    const groups = await admin.listGroups();
    expect(groups.groups.some((g) => g.groupId.startsWith('lambdaline-serving-') && g.groupId.includes(suffix))).toBe(false);
  });

  it('fails clearly on a missing topic and on bad options', async () => {
    const source = speedFeedSource({ brokers, topic: `lambdaline-serving-missing-${suffix}` });
    sources.push(source);
    await expect(source.start()).rejects.toThrow(/cannot read its offsets/);
    expect(() => speedFeedSource({ topic: '' } as never)).toThrow(expect.objectContaining({ field: 'topic' }));
    expect(() => speedFeedSource({ topic: 't' })).toThrow(expect.objectContaining({ field: 'brokers' }));
    expect(() => speedFeedSource({ topic: 't', brokers, lagPollMs: -1 })).toThrow(expect.objectContaining({ field: 'lagPollMs' }));
  });
});
