/**
 * The archiver fed from a real broker the way the runner feeds it: a kafkajs
 * consumer's eachBatch writes to an archiver and flushes before offsets are
 * resolved. Then a second consumer group replays the topic from the start:
 * every record is a duplicate. KAFKA_BROKERS (default 127.0.0.1:9092).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { defaultViews, sensorEventSchema } from '@lambdaline/core';
import { openMasterDataset, type MasterDataset } from '../src/index.js';
import { expectViewsEqualFold, sensorEvents, tempDir, validEvents, type TempDir } from './helpers.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'batch-layer-test', brokers, logLevel: logLevel.NOTHING });
const topic = `batch-layer-archive-${randomBytes(4).toString('hex')}`;
let admin: Admin;
let tmp: TempDir;

beforeAll(async () => {
  tmp = tempDir();
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  tmp.cleanup();
});

/** Consumes the whole topic (up to the current high watermarks) into the dataset with a new group. */
async function archiveTopic(ds: MasterDataset, group: string) {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  const consumer = kafka.consumer({ groupId: group });
  const archiver = ds.createArchiver({ chunkRecords: 400 });
  const reached = new Map<number, bigint>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          await archiver.write(batch.messages.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, value: m.value })));
          await archiver.flush(); // in the manifest before the consumer moves on
          resolveOffset(batch.lastOffset());
          await heartbeat();
          reached.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
          if ([...ends].every(([p, high]) => (reached.get(p) ?? 0n) >= high)) resolve();
        },
      })
      .catch(reject);
  });
  await done;
  await consumer.disconnect();
  return archiver.close();
}

describe('archiver fed by a kafkajs consumer', () => {
  it('archives a topic exactly once, and a replay from the beginning adds nothing', async () => {
    const events = sensorEvents(11, 3_000, { days: 2 });
    const values = events.map((e, i) => (i % 250 === 7 ? '{"broken": ' : JSON.stringify(e)));
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < values.length; i += 500) {
      await producer.send({ topic, messages: values.slice(i, i + 500).map((value, j) => ({ key: `k${(i + j) % 17}`, value })) });
    }
    await producer.disconnect();
    const highs = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: o.high })).sort((a, b) => a.partition - b.partition);

    const ds = await openMasterDataset({ dir: tmp.file('ds') });
    const first = await archiveTopic(ds, `batch-layer-test-${randomBytes(4).toString('hex')}`);
    expect(first.records).toBe(3_000);
    expect(first.quarantined).toBe(values.filter((v) => v.startsWith('{"broken')).length);
    expect(first.duplicates).toBe(0);
    const replay = await archiveTopic(ds, `batch-layer-test-${randomBytes(4).toString('hex')}`);
    expect(replay).toMatchObject({ records: 0, duplicates: 3_000, commits: 0 });

    const snapshot = await ds.runBatch();
    expect(snapshot.horizon.partitions.map((p) => ({ partition: p.partition, high: p.endOffset }))).toEqual(highs.filter((h) => h.high !== '0'));
    expectViewsEqualFold(sensorEventSchema, defaultViews, snapshot, validEvents(sensorEventSchema, values));
    await ds.close();
  });
});
