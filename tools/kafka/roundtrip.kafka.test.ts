/**
 * Proves that kafkajs (the client every lambdaline layer uses) works against the broker the
 * workspace runs (KAFKA_BROKERS, default 127.0.0.1:9092; tools/kafka/kafka.mjs starts one):
 * topic admin, produce, consume in a consumer group, commit, read committed offsets back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const suffix = randomUUID();
const topic = `lambdaline-tools-roundtrip-${suffix}`;
const groupId = `lambdaline-tools-roundtrip-group-${suffix}`;
const PARTITIONS = 3;
const PER_PARTITION = 20;

const kafka = new Kafka({ clientId: `lambdaline-tools-roundtrip-${suffix}`, brokers, logLevel: logLevel.WARN });
let admin: Admin | undefined;
let producer: Producer | undefined;
let consumer: Consumer | undefined;

/** Resolves when `check` is true, polling; rejects with `what` after `timeoutMs`. */
async function eventually(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe(`kafkajs round trip against ${brokers.join(',')}`, () => {
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
  });

  afterAll(async () => {
    await consumer?.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    if (admin) {
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  });

  it('creates a 3-partition topic', async () => {
    const metadata = await admin!.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(PARTITIONS);
  });

  it('produces, consumes in a group, commits, and the committed offsets are the end offsets', async () => {
    // Produce: PER_PARTITION keyed records to each partition, in order.
    producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const sent = new Map<number, string[]>();
    for (let p = 0; p < PARTITIONS; p += 1) {
      const values = Array.from({ length: PER_PARTITION }, (_, i) => JSON.stringify({ p, i, id: `${suffix}-${p}-${i}` }));
      sent.set(p, values);
      const metadata = await producer.send({
        topic,
        messages: values.map((value, i) => ({ partition: p, key: `k-${p}-${i}`, value, headers: { source: 'roundtrip' } })),
      });
      expect(metadata).toHaveLength(1);
      expect(metadata[0]).toMatchObject({ topicName: topic, partition: p, errorCode: 0 });
    }

    const endOffsets = await admin!.fetchTopicOffsets(topic);
    expect(endOffsets.map((o) => [o.partition, o.high]).sort()).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => [p, String(PER_PARTITION)]),
    );

    // Consume in a consumer group, committing explicitly. The first join may meet
    // "group coordinator not available" while __consumer_offsets is created: kafkajs retries.
    consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Map<number, string[]>();
    const headerSources: string[] = [];
    let total = 0;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const values = received.get(partition) ?? [];
        values.push(message.value?.toString() ?? '');
        received.set(partition, values);
        headerSources.push(message.headers?.source?.toString() ?? '');
        await consumer!.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        total += 1;
      },
    });
    await eventually(() => total === PARTITIONS * PER_PARTITION, `${PARTITIONS * PER_PARTITION} records (got ${total})`);

    // Every record arrived exactly once, in order within its partition.
    for (let p = 0; p < PARTITIONS; p += 1) expect(received.get(p)).toEqual(sent.get(p));
    expect(new Set(headerSources)).toEqual(new Set(['roundtrip']));

    // The group's committed offsets, read back through the admin API, are the end offsets.
    const committed = await admin!.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = committed.find((t) => t.topic === topic)?.partitions ?? [];
    expect(byPartition.map((o) => [o.partition, o.offset]).sort()).toEqual(
      endOffsets.map((o) => [o.partition, o.high]).sort(),
    );

    await consumer.disconnect();
    consumer = undefined;
    const afterLeave = await admin!.describeGroups([groupId]);
    expect(afterLeave.groups[0]?.state).toBe('Empty');
  });
});
