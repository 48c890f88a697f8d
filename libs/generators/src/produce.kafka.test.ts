import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { tap } from 'rxjs';
import { ConfigError, LambdalineError, parseEvent, sensorEventSchema } from '@lambdaline/core';
import {
  EXPECTED_HEADER,
  defaultBrokers,
  ensureTopic,
  generateMessages,
  liveMessages,
  produceToKafka,
  type GeneratedMessage,
} from './index.js';

const kafka = new Kafka({ clientId: 'generators-kafka-test', brokers: defaultBrokers(), logLevel: logLevel.NOTHING });
const run = randomUUID().slice(0, 8);
const topics: string[] = [];
let admin: Admin;

const newTopic = (name: string) => {
  const topic = `gen-test-${name}-${run}`;
  topics.push(topic);
  return topic;
};

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  const existing = new Set(await admin.listTopics());
  const mine = topics.filter((t) => existing.has(t));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
});

interface Received {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads `expected` messages of `topic` from the beginning with a fresh group, then stops. */
async function readBack(topic: string, expected: number): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: `gen-test-group-${randomUUID()}` });
  const received: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${received.length} of ${expected} messages of ${topic}`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            received.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
            if (received.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Groups by partition, in offset order. */
function byPartition(records: Received[]): Map<number, Received[]> {
  const map = new Map<number, Received[]>();
  for (const r of records) map.set(r.partition, [...(map.get(r.partition) ?? []), r]);
  for (const list of map.values()) list.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
  return map;
}

describe('ensureTopic', () => {
  it('creates a topic with N partitions once, then reports it as existing', async () => {
    const topic = newTopic('ensure');
    expect(await ensureTopic({ topic, partitions: 4 })).toEqual({ topic, created: true, partitions: 4 });
    expect(await ensureTopic({ topic, partitions: 2, kafka })).toEqual({ topic, created: false, partitions: 4 });
  });
});

describe('produceToKafka', () => {
  /** Checks the topic holds exactly `sent`, each partition in send order, each sensor in one partition. */
  function expectExactly(received: Received[], sent: ReadonlyArray<{ key: string | null; value: string }>) {
    expect(received).toHaveLength(sent.length);
    const partitions = byPartition(received);
    const partitionOfKey = new Map<string | null, number>();
    for (const [partition, list] of partitions) {
      for (const r of list) {
        // A sensor's messages all land in one partition...
        expect(partitionOfKey.get(r.key) ?? partition, `key ${r.key}`).toBe(partition);
        partitionOfKey.set(r.key, partition);
      }
    }
    // ...and each partition holds exactly the messages sent to it, in the order they were generated.
    for (const [partition, list] of partitions) {
      const expected = sent.filter((m) => partitionOfKey.get(m.key) === partition);
      expect(list.map((r) => [r.key, r.value])).toEqual(expected.map((m) => [m.key, m.value]));
    }
    return partitions;
  }

  it('produces a live stream with malformed messages: exactly those messages, per-partition order kept', async () => {
    const topic = newTopic('live');
    await ensureTopic({ topic, partitions: 3, kafka });
    const n = 3000;
    const sent: GeneratedMessage[] = [];
    const source = liveMessages({ seed: 17, rate: Infinity, count: n, malformedShare: 0.15, lateShare: 0.05, sensors: 30 }).pipe(tap((m) => sent.push(m)));

    const result = await produceToKafka({ kafka, topic, source, batchSize: 250, expectationHeader: true });
    expect(result.produced).toBe(n);
    expect(result.aborted).toBe(false);
    expect(result.untagged).toBe(0);
    const counts: Record<string, number> = {};
    for (const m of sent) counts[m.expected] = (counts[m.expected] ?? 0) + 1;
    expect(result.byExpected).toEqual(counts);
    expect(Object.keys(counts).length).toBe(8); // valid + the 7 codes

    const received = await readBack(topic, n);
    const partitions = expectExactly(received, sent.map((m) => ({ key: m.key, value: m.raw })));
    expect([...partitions.keys()].sort()).toEqual([0, 1, 2]);
    // The reported per-partition counts and offsets are the topic's.
    expect(result.partitions).toEqual([...partitions.entries()].sort(([a], [b]) => a - b).map(([partition, list]) => ({ partition, count: list.length, firstOffset: '0', nextOffset: String(list.length) })));
    // Every message is what its tag says, per core.
    for (const r of received) {
      const parsed = parseEvent(sensorEventSchema, r.value);
      expect(parsed.ok ? 'valid' : parsed.rejection.code).toBe(r.headers[EXPECTED_HEADER]);
    }
  });

  it('produces a backlog from a sync iterable with backpressure, and appends on a second run', async () => {
    const topic = newTopic('backlog');
    await ensureTopic({ topic, partitions: 3, kafka });
    const options = { seed: 5, from: '2024-05-01', count: 2000, malformedShare: 0.1 };
    const progress: number[] = [];
    const first = await produceToKafka({ kafka, topic, source: generateMessages(options), batchSize: 300, onProgress: (p) => progress.push(p.produced) });
    expect(first.produced).toBe(2000);
    expect(progress.at(-1)).toBe(2000);
    expect(progress.length).toBeGreaterThanOrEqual(7);
    // Continue the run: new indices, new ids; offsets continue where the first run stopped.
    const second = await produceToKafka({ kafka, topic, source: generateMessages({ ...options, startIndex: 2000, from: '2024-05-02' }) });
    for (const p of second.partitions) {
      expect(p.firstOffset).toBe(first.partitions.find((f) => f.partition === p.partition)!.nextOffset);
    }
    const sent = [...generateMessages(options), ...generateMessages({ ...options, startIndex: 2000, from: '2024-05-02' })];
    expectExactly(await readBack(topic, 4000), sent.map((m) => ({ key: m.key, value: m.raw })));
  });

  it('accepts bare events and raw strings (keyed by their sensor_id when they have one)', async () => {
    const topic = newTopic('untagged');
    await ensureTopic({ topic, partitions: 2, kafka });
    const events = [...generateMessages({ seed: 1, count: 200 })].map((m) => m.event!);
    const raws = ['{"sensor_id":"sensor_3","broken":', ...events.slice(0, 50).map((e) => JSON.stringify(e))];
    const a = await produceToKafka({ kafka, topic, source: events });
    expect(a.byExpected).toEqual({ valid: 200 });
    const b = await produceToKafka({ kafka, topic, source: raws });
    expect(b.untagged).toBe(51);
    const sent = [...events.map((e) => ({ key: e.sensor_id as string | null, value: JSON.stringify(e) })), ...raws.map((r, i) => ({ key: i === 0 ? null : events[i - 1]!.sensor_id, value: r }))];
    const received = await readBack(topic, 251);
    // The keyless message may go to any partition; check the keyed ones exactly and the keyless one is there.
    expect(received.filter((r) => r.key === null).map((r) => r.value)).toEqual([raws[0]]);
    expectExactly(
      received.filter((r) => r.key !== null),
      sent.filter((m) => m.key !== null),
    );
  });

  it('stops on abort and resolves with what was produced', async () => {
    const topic = newTopic('abort');
    await ensureTopic({ topic, partitions: 3, kafka });
    const controller = new AbortController();
    // An endless rate-limited stream: only the abort ends it.
    const source = liveMessages({ seed: 2, rate: 2000 });
    const result = await produceToKafka({
      kafka,
      topic,
      source,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.produced >= 100) controller.abort();
      },
    });
    expect(result.aborted).toBe(true);
    expect(result.produced).toBeGreaterThanOrEqual(100);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(result.produced);
  });

  it('fails with a LambdalineError when the broker cannot be reached', async () => {
    const nowhere = new Kafka({ clientId: 'nowhere', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 500 });
    const error = await produceToKafka({ kafka: nowhere, topic: 'any', source: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdalineError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/any/);
  });

  it('refuses a topic that does not exist instead of auto-creating it', async () => {
    const error = await produceToKafka({ kafka, topic: `gen-test-missing-${run}`, source: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('topic');
    expect(await admin.listTopics()).not.toContain(`gen-test-missing-${run}`);
  });
});
