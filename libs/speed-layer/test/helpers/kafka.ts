/** Real-broker helpers for `*.kafka.test.ts`: random names, topics, producing, reading back, waiting. */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { afterAll } from 'vitest';
import { resolveBrokers, type SpeedLayer } from '../../src/index.js';

export const brokers = resolveBrokers(process.env.KAFKA_BROKERS);

export function kafka(clientId = 'speed-layer-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface ReadRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/** Creates topics and remembers them for `cleanup()`. */
export class TestKafka {
  readonly client = kafka();
  readonly admin: Admin = this.client.admin();
  private producerInstance: Producer | null = null;
  private readonly topics = new Set<string>();
  private connected = false;

  async topic(prefix: string, partitions: number, configEntries: Array<{ name: string; value: string }> = []): Promise<string> {
    await this.connect();
    const topic = randomName(prefix);
    this.topics.add(topic);
    await this.admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries }], waitForLeaders: true });
    return topic;
  }

  /** Remembers a topic created by the code under test (dead-letter, feed topics). */
  track(topic: string): string {
    this.topics.add(topic);
    return topic;
  }

  async producer(): Promise<Producer> {
    if (!this.producerInstance) {
      this.producerInstance = this.client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await this.producerInstance.connect();
    }
    return this.producerInstance;
  }

  /** Produces values round robin over partitions (explicitly), in chunks; returns nothing until acked. */
  async produce(topic: string, values: readonly string[], partitions: number, chunk = 2000): Promise<void> {
    const producer = await this.producer();
    for (let i = 0; i < values.length; i += chunk) {
      const messages = values.slice(i, i + chunk).map((value, j) => ({ value, partition: (i + j) % partitions }));
      await producer.send({ topic, acks: -1, messages });
    }
  }

  async endOffsets(topic: string): Promise<number[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  }

  /** Every record of every partition up to the current end offsets, read by a throwaway consumer. */
  async readAll(topic: string): Promise<ReadRecord[][]> {
    const ends = await this.endOffsets(topic);
    const out: ReadRecord[][] = ends.map(() => []);
    if (ends.every((e) => e === 0)) return out;
    const consumer = this.client.consumer({ groupId: randomName('reader'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const complete = () => out.every((records, p) => (records.length === 0 ? 0 : Number(records[records.length - 1]!.offset) + 1) >= ends[p]!);
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (Number(m.offset) >= ends[batch.partition]!) continue;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
          out[batch.partition]!.push({ offset: m.offset, key: m.key, value: m.value, headers });
        }
        if (complete()) resolveDone();
      },
    });
    const timeout = setTimeout(resolveDone, 60_000);
    await done;
    clearTimeout(timeout);
    await consumer.disconnect();
    if (!complete()) throw new Error(`readAll(${topic}): did not reach the end offsets ${ends.join(',')}`);
    return out.map((records) => records.sort((a, b) => Number(a.offset) - Number(b.offset)));
  }

  async cleanup(): Promise<void> {
    await this.producerInstance?.disconnect().catch(() => undefined);
    if (this.connected) {
      const existing = new Set(await this.admin.listTopics().catch(() => [] as string[]));
      const mine = [...this.topics].filter((t) => existing.has(t));
      if (mine.length > 0) await this.admin.deleteTopics({ topics: mine }).catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    if (!this.connected) {
      await this.admin.connect();
      this.connected = true;
    }
  }
}

/**
 * A test file's TestKafka and the speed layers it starts (push them onto `layers`): after all
 * the file's tests the layers are stopped, then the topics deleted. Call at the top of the file.
 */
export function kafkaTestEnv(): { env: TestKafka; layers: SpeedLayer[] } {
  const env = new TestKafka();
  const layers: SpeedLayer[] = [];
  afterAll(async () => {
    await Promise.all(layers.map((l) => l.stop()));
    await env.cleanup();
  });
  return { env, layers };
}

/** Polls `probe` until it returns something truthy, and returns that; throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
