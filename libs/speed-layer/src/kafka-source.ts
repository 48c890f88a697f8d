/**
 * The speed layer's source over Kafka: a kafkajs consumer in a consumer group.
 *
 * - Assignment: every (re)join (`GROUP_JOIN`) hands the complete assignment to
 *   the pipeline *before* the first fetch of the new generation, and the
 *   pipeline seeks every assigned partition to where it must read from (the
 *   horizon for a new partition). Committed offsets never decide where reading
 *   starts.
 * - Batches: `eachBatch`, one partition at a time (`partitionsConsumedConcurrently: 1`),
 *   stale batches (a seek came after the fetch) flagged through `isStale`.
 * - Offsets: `autoCommit` is off; the pipeline commits the offset below which
 *   every record was folded and every dead letter delivered (for lag
 *   monitoring and to avoid re-sending dead letters after a restart).
 * - Dead letters: an idempotent producer writes them to the dead-letter topic
 *   (created if missing) with the original key and value bytes and the
 *   reason in headers.
 */
import { assertParam } from '@lambdaline/core';
import type { Admin, Consumer, ConsumerConfig, Kafka, Producer } from 'kafkajs';
import { deadLetterHeaders, toBuffer } from './dead-letters.js';
import { brokerError, SpeedLayerError } from './errors.js';
import { ensureTopic, kafkaClient, type KafkaConnectionOptions } from './kafka.js';
import type { DeadLetterRecord, DeadLetterSink, SourceHandler, SpeedSource, TopicPartition } from './source.js';

export interface KafkaSourceOptions extends KafkaConnectionOptions {
  /** The events topic. */
  readonly topic: string;
  /** Consumer group: instances with the same group split the partitions. */
  readonly groupId: string;
  /**
   * Topic for dead letters. Default `<topic>.dead-letters`; `null` = none (dead
   * letters are then only emitted on the speed layer's `deadLetters` stream).
   */
  readonly deadLetterTopic?: string | null;
  /** Create the dead-letter topic if missing (default true). */
  readonly createDeadLetterTopic?: boolean;
  /** Extra kafkajs consumer options (fetch sizes, timeouts). `groupId` comes from above. */
  readonly consumer?: Omit<ConsumerConfig, 'groupId'>;
}

class KafkaSource implements SpeedSource {
  readonly kind = 'kafka';
  readonly topic: string;
  private readonly kafka: Kafka;
  private readonly deadLetterTopic: string | null;
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private producerReady: Promise<void> | null = null;

  constructor(private readonly options: KafkaSourceOptions) {
    assertParam(typeof options?.topic === 'string' && options.topic !== '', 'topic', 'must name the events topic');
    assertParam(typeof options.groupId === 'string' && options.groupId !== '', 'groupId', 'must name the consumer group');
    assertParam(
      options.deadLetterTopic === undefined || options.deadLetterTopic === null || (typeof options.deadLetterTopic === 'string' && options.deadLetterTopic !== '' && options.deadLetterTopic !== options.topic),
      'deadLetterTopic',
      'must be a topic name other than the events topic, or null',
    );
    this.topic = options.topic;
    this.kafka = kafkaClient(options, 'lambdaline-speed');
    this.deadLetterTopic = options.deadLetterTopic === undefined ? `${options.topic}.dead-letters` : options.deadLetterTopic;
  }

  async start(handler: SourceHandler): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      if (this.deadLetterTopic !== null && this.options.createDeadLetterTopic !== false) {
        await ensureTopic(admin, { topic: this.deadLetterTopic, numPartitions: 1 });
      }
      const consumer = this.kafka.consumer({
        maxBytesPerPartition: 4 * 1024 * 1024,
        maxBytes: 16 * 1024 * 1024,
        ...this.options.consumer,
        groupId: this.options.groupId,
      });
      this.consumer = consumer;
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const partitions = [...(event.payload.memberAssignment[this.topic] ?? [])].sort((a, b) => a - b);
        handler.assigned(partitions.map((partition): TopicPartition => ({ topic: this.topic, partition })));
      });
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) {
          handler.failed(new SpeedLayerError('consumer_failed', `the Kafka consumer of ${this.topic} stopped: ${event.payload.error.message}`, { retriable: false, cause: event.payload.error }));
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, isStale }) => {
          await handler.batch({
            topic: batch.topic,
            partition: batch.partition,
            fetchedOffset: (batch as unknown as { fetchedOffset: string }).fetchedOffset,
            messages: batch.messages,
            lastOffset: batch.lastOffset(),
            highWatermark: batch.highWatermark,
            isStale,
          });
        },
      });
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw brokerError(`starting the Kafka consumer of ${this.topic}`, error);
    }
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer?.seek({ topic, partition, offset });
  }

  async committed(topic: string, partitions: readonly number[]): Promise<Map<number, string | null>> {
    const admin = this.requireAdmin();
    try {
      const [entry] = await admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
      const out = new Map<number, string | null>();
      for (const p of partitions) {
        const found = entry?.partitions.find((x) => x.partition === p);
        out.set(p, found && found.offset !== '-1' ? found.offset : null);
      }
      return out;
    } catch (error) {
      throw brokerError(`fetching committed offsets of group ${this.options.groupId}`, error);
    }
  }

  async commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: string }>): Promise<void> {
    if (!this.consumer || offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
    } catch (error) {
      throw brokerError(`committing offsets of group ${this.options.groupId}`, error);
    }
  }

  async endOffsets(): Promise<Map<number, string>> {
    const admin = this.requireAdmin();
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      return new Map(offsets.map((o) => [o.partition, o.high]));
    } catch (error) {
      throw brokerError(`fetching end offsets of ${this.topic}`, error);
    }
  }

  deadLetterSink(): DeadLetterSink {
    const topic = this.deadLetterTopic;
    if (topic === null) return { description: 'none (deadLetters stream only)', deliver: async () => undefined };
    return {
      description: `Kafka topic ${topic}`,
      deliver: async (records: readonly DeadLetterRecord[]) => {
        const producer = await this.deadLetterProducer();
        try {
          await producer.send({
            topic,
            acks: -1,
            messages: records.map((r) => ({ key: toBuffer(r.key), value: toBuffer(r.value), headers: deadLetterHeaders(r) })),
          });
        } catch (error) {
          throw brokerError(`producing ${records.length} dead letters to ${topic}`, error);
        }
      },
    };
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    const producer = this.producer;
    const admin = this.admin;
    this.consumer = null;
    this.producer = null;
    this.producerReady = null;
    this.admin = null;
    await Promise.allSettled([consumer?.disconnect(), producer?.disconnect(), admin?.disconnect()]);
  }

  private requireAdmin(): Admin {
    if (!this.admin) throw new SpeedLayerError('broker', `the Kafka source of ${this.topic} is not started`, { retriable: false });
    return this.admin;
  }

  private async deadLetterProducer(): Promise<Producer> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      const producer = this.producer;
      this.producerReady = producer.connect().catch((error: unknown) => {
        if (this.producer === producer) {
          this.producer = null;
          this.producerReady = null;
        }
        throw brokerError('connecting the dead-letter producer', error);
      });
    }
    await this.producerReady;
    return this.producer!;
  }
}

/** A speed-layer source reading `options.topic` with a kafkajs consumer in group `options.groupId`. */
export function kafkaSource(options: KafkaSourceOptions): SpeedSource {
  return new KafkaSource(options);
}
