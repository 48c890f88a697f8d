/** Real-broker helpers for the runner's Kafka tests: random names, reading a topic back, tearing down. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);

export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly value: string | null;
  /** Log append time, epoch ms. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export class TestKafka {
  readonly kafka = new Kafka({ clientId: 'runner-test', brokers: BROKERS, logLevel: logLevel.NOTHING });
  readonly admin: Admin = this.kafka.admin();
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private connected = false;

  async connect(): Promise<void> {
    if (!this.connected) {
      await this.admin.connect();
      this.connected = true;
    }
  }

  async createTopic(prefix: string, partitions: number): Promise<string> {
    await this.connect();
    const topic = randomName(prefix);
    this.track(topic);
    await this.admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    return topic;
  }

  /** Remembers a topic the code under test creates (dead letters, feed). */
  track(topic: string): string {
    this.topics.add(topic);
    return topic;
  }

  trackGroup(group: string): string {
    this.groups.add(group);
    return group;
  }

  async endOffsets(topic: string): Promise<number[]> {
    await this.connect();
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  }

  /** Every record up to the end offsets as they are now, per partition, in offset order. */
  async readAll(topic: string): Promise<TopicRecord[][]> {
    const ends = await this.endOffsets(topic);
    const out: TopicRecord[][] = ends.map(() => []);
    if (ends.every((e) => e === 0)) return out;
    const group = this.trackGroup(randomName('runner-test-reader'));
    const consumer = this.kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const complete = () => out.every((records, p) => (records.length === 0 ? 0 : records[records.length - 1]!.offset + 1) >= ends[p]!);
      let resolveDone!: () => void;
      const done = new Promise<void>((resolve) => (resolveDone = resolve));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset >= ends[batch.partition]!) continue;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
            out[batch.partition]!.push({ partition: batch.partition, offset, value: m.value === null ? null : m.value.toString('utf8'), timestamp: Number(m.timestamp), headers });
          }
          if (complete()) resolveDone();
        },
      });
      const timeout = setTimeout(resolveDone, 60_000);
      await done;
      clearTimeout(timeout);
      if (!complete()) throw new Error(`readAll(${topic}): did not reach the end offsets ${ends.join(',')}`);
    } finally {
      await consumer.disconnect();
    }
    return out.map((records) => {
      const byOffset = new Map(records.map((r) => [r.offset, r]));
      return [...byOffset.values()].sort((a, b) => a.offset - b.offset);
    });
  }

  /** Deletes every topic and group this test made or tracked. */
  async cleanup(): Promise<void> {
    if (!this.connected) return;
    const existing = new Set(await this.admin.listTopics().catch(() => [] as string[]));
    const topics = [...this.topics].filter((t) => existing.has(t));
    if (topics.length > 0) await this.admin.deleteTopics({ topics }).catch(() => undefined);
    const groups = (await this.admin.listGroups().catch(() => ({ groups: [] as Array<{ groupId: string }> }))).groups.map((g) => g.groupId);
    const mine = groups.filter((g) => this.groups.has(g) || [...this.groups].some((prefix) => g.startsWith(`${prefix}-`)));
    if (mine.length > 0) await this.admin.deleteGroups(mine).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.connected = false;
  }
}
