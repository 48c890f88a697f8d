/**
 * Putting generated messages on a Kafka topic with kafkajs.
 *
 * Keys are sensor ids and partitions are chosen here, with kafkajs' default
 * (Java-compatible murmur2) partitioner, so the result can say exactly how
 * many messages went to each partition and at which offsets — what a test of
 * a consumer needs to know. Batches are sent one at a time by an idempotent
 * producer: a sensor's messages land in its partition in generation order, and
 * a retried send never duplicates a message.
 */
import { Partitioners, type CompressionTypes, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { LambdalineError, assertParam, type Subscribable } from '@lambdaline/core';
import { batchSource, type BatchSource } from './batch-source.js';
import type { SensorEvent } from './event-model.js';
import { checkTopic, isRetriable, kafkaClient, type KafkaConnectOptions } from './kafka-client.js';
import type { Expectation, GeneratedMessage } from './messages.js';
import { checkInt } from './options.js';

/** What a producer source may emit: tagged messages, bare events, or raw strings. */
export type ProduceItem = GeneratedMessage | SensorEvent | string;

export type ProduceSource = Subscribable<ProduceItem> | Iterable<ProduceItem> | AsyncIterable<ProduceItem>;

export interface ProduceOptions extends KafkaConnectOptions {
  readonly topic: string;
  /**
   * The messages: `liveMessages(...)` (rate and count come from the stream),
   * `generateMessages(...)` for a backlog as fast as the broker takes it, any
   * Observable / (async) iterable of messages, events or strings.
   */
  readonly source: ProduceSource;
  /** Most messages per send. Default 1000. */
  readonly batchSize?: number;
  /** -1 (all in-sync replicas, default; the producer is then idempotent) or 1 (leader only). */
  readonly acks?: -1 | 1;
  readonly compression?: CompressionTypes;
  /** Add header `lambdaline-expected: valid|<rejection code>` to tagged messages. Default false. */
  readonly expectationHeader?: boolean;
  /** Called after each batch is acknowledged. */
  readonly onProgress?: (progress: { readonly produced: number }) => void;
  /** Stops reading the source; the batch in flight completes and the promise resolves with what was produced. */
  readonly signal?: AbortSignal;
}

export interface PartitionProduced {
  readonly partition: number;
  readonly count: number;
  /** Offset of the first message produced to the partition (null with acks 1 when unknown). */
  readonly firstOffset: string | null;
  /** One past the last message produced: the partition's end offset after the run. */
  readonly nextOffset: string | null;
}

export interface ProduceResult {
  readonly topic: string;
  /** Messages acknowledged by the broker. */
  readonly produced: number;
  /** Counts by expected outcome, for tagged messages and bare events (bare events count as `valid`). */
  readonly byExpected: Readonly<Partial<Record<Expectation, number>>>;
  /** Raw strings produced: their outcome is not known here. */
  readonly untagged: number;
  /** Partitions written to, in partition order. */
  readonly partitions: readonly PartitionProduced[];
  /** True when `signal` stopped the run before the source ended. */
  readonly aborted: boolean;
  readonly durationMs: number;
}

export const EXPECTED_HEADER = 'lambdaline-expected';
export const DEFAULT_BATCH_SIZE = 1000;

interface Outgoing {
  readonly message: Message;
  readonly partition: number;
  readonly expected: Expectation | undefined;
}

/**
 * Produces every message of `source` to `topic`, keyed by sensor id, and
 * resolves when the source completes (or `signal` aborts) with what was
 * produced, per expected outcome and per partition.
 *
 * @throws ConfigError for bad options or a missing topic (create it with `ensureTopic`).
 * @throws LambdalineError when the broker refuses a batch after kafkajs' retries
 *   (`retriable` as kafkajs says), or with the source's own error.
 */
export async function produceToKafka(options: ProduceOptions): Promise<ProduceResult> {
  const started = performance.now();
  const topic = checkTopic(options?.topic);
  const source = options.source as unknown;
  assertParam(typeof source === 'object' && source !== null, 'source', 'must be an Observable or an (async) iterable of messages');
  const batchSize = checkInt(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', 1, 1_000_000);
  const acks = options.acks ?? -1;
  assertParam(acks === -1 || acks === 1, 'acks', 'must be -1 (all) or 1 (leader)');

  const kafka = kafkaClient(options);
  const partitionOf = partitionerFor(topic, await topicPartitions(kafka, topic));
  const producer = kafka.producer({ idempotent: acks === -1, maxInFlightRequests: 1, allowAutoTopicCreation: false });

  const counts = new Map<number, { count: number; firstOffset: bigint | null; nextOffset: bigint | null }>();
  const byExpected: Partial<Record<Expectation, number>> = {};
  let untagged = 0;
  let produced = 0;
  let aborted = false;
  let batches: BatchSource<ProduceItem> | undefined;
  const onAbort = () => {
    aborted = true;
    batches?.close();
  };

  try {
    await producer.connect().catch((error: unknown) => {
      throw new LambdalineError(`connecting a producer for ${topic} failed: ${(error as Error).message}`, { retriable: isRetriable(error), cause: error });
    });
    batches = batchSource(options.source, batchSize * 2);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    for (let batch = await batches.next(batchSize); batch !== null && !aborted; batch = await batches.next(batchSize)) {
      const outgoing = batch.map((item) => toOutgoing(item, partitionOf, options.expectationHeader === true));
      const metadata = await sendBatch(producer, topic, outgoing, acks, options.compression);
      const inBatch = new Map<number, number>();
      for (const o of outgoing) {
        inBatch.set(o.partition, (inBatch.get(o.partition) ?? 0) + 1);
        if (o.expected === undefined) untagged++;
        else byExpected[o.expected] = (byExpected[o.expected] ?? 0) + 1;
      }
      for (const [partition, n] of inBatch) {
        const base = metadata.get(partition);
        const entry = counts.get(partition) ?? { count: 0, firstOffset: base ?? null, nextOffset: null };
        entry.count += n;
        entry.nextOffset = base === undefined ? null : base + BigInt(n);
        counts.set(partition, entry);
      }
      produced += outgoing.length;
      options.onProgress?.({ produced });
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    batches?.close();
    await producer.disconnect().catch(() => {});
  }

  return {
    topic,
    produced,
    byExpected,
    untagged,
    partitions: [...counts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, c]) => ({
        partition,
        count: c.count,
        firstOffset: c.firstOffset === null ? null : String(c.firstOffset),
        nextOffset: c.nextOffset === null ? null : String(c.nextOffset),
      })),
    aborted,
    durationMs: performance.now() - started,
  };
}

async function topicPartitions(kafka: Kafka, topic: string): Promise<PartitionMetadata[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    assertParam(topics.includes(topic), 'topic', `${topic} does not exist; create it first (ensureTopic)`);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]!.partitions;
  } catch (error) {
    if (error instanceof LambdalineError) throw error;
    throw new LambdalineError(`reading metadata of topic ${topic}: ${(error as Error).message}`, { retriable: isRetriable(error), cause: error });
  } finally {
    await admin.disconnect();
  }
}

function partitionerFor(topic: string, partitionMetadata: PartitionMetadata[]): (message: Message) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  return (message) => partitioner({ topic, partitionMetadata, message });
}

function toOutgoing(item: ProduceItem, partitionOf: (m: Message) => number, header: boolean): Outgoing {
  let key: string | null;
  let value: string;
  let expected: Expectation | undefined;
  if (typeof item === 'string') {
    value = item;
    key = sensorIdOf(item);
  } else if ('raw' in item && 'expected' in item) {
    value = item.raw;
    key = item.key;
    expected = item.expected;
  } else {
    value = JSON.stringify(item);
    key = item.sensor_id;
    expected = 'valid';
  }
  const message: Message = { key, value };
  if (header && expected !== undefined) message.headers = { [EXPECTED_HEADER]: expected };
  const partition = partitionOf(message);
  message.partition = partition;
  return { message, partition, expected };
}

/** The sensor id of a raw JSON event, to key it like a tagged one; null when it has none. */
function sensorIdOf(raw: string): string | null {
  try {
    const parsed: unknown = JSON.parse(raw);
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { sensor_id?: unknown }).sensor_id : undefined;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** Sends one batch; resolves with the base offset per partition (when the broker reported it). */
async function sendBatch(producer: Producer, topic: string, outgoing: readonly Outgoing[], acks: -1 | 1, compression: CompressionTypes | undefined): Promise<Map<number, bigint>> {
  try {
    const records = await producer.send({
      topic,
      messages: outgoing.map((o) => o.message),
      acks,
      ...(compression === undefined ? {} : { compression }),
    });
    const offsets = new Map<number, bigint>();
    for (const r of records) if (r.baseOffset !== undefined && r.baseOffset !== '-1') offsets.set(r.partition, BigInt(r.baseOffset));
    return offsets;
  } catch (error) {
    throw new LambdalineError(`producing to ${topic} failed: ${(error as Error).message}`, { retriable: isRetriable(error), cause: error });
  }
}
