/**
 * Getting a kafkajs client and making sure the topic exists.
 */
import { Kafka, logLevel } from 'kafkajs';
import { LambdalineError, assertParam } from '@lambdaline/core';
import { checkInt } from './options.js';

export interface KafkaConnectOptions {
  /** Broker list (`host:port`, array or comma-separated). Default: env `KAFKA_BROKERS`, else `127.0.0.1:9092`. */
  readonly brokers?: string | readonly string[];
  /** A kafkajs client to use instead of `brokers`. */
  readonly kafka?: Kafka;
  /** kafkajs clientId when a client is created here. Default `lambdaline-generators`. */
  readonly clientId?: string;
}

export const DEFAULT_BROKERS = '127.0.0.1:9092';

/** `KAFKA_BROKERS` (comma-separated) or `127.0.0.1:9092`. */
export function defaultBrokers(): string[] {
  return splitBrokers(process.env.KAFKA_BROKERS || DEFAULT_BROKERS);
}

function splitBrokers(value: string | readonly string[]): string[] {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((b) => (typeof b === 'string' ? b.trim() : '')).filter(Boolean);
  assertParam(list.length > 0, 'brokers', 'must name at least one broker (host:port)');
  return list;
}

export function kafkaClient(options: KafkaConnectOptions): Kafka {
  if (options.kafka !== undefined) {
    assertParam(options.brokers === undefined, 'brokers', 'give brokers or kafka, not both');
    return options.kafka;
  }
  const brokers = options.brokers === undefined ? defaultBrokers() : splitBrokers(options.brokers);
  // kafkajs logs every retry at ERROR level by default; failures reach the
  // caller as rejected promises anyway. Pass your own `kafka` to see its logs.
  return new Kafka({ clientId: options.clientId ?? 'lambdaline-generators', brokers, logLevel: logLevel.NOTHING });
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export function checkTopic(topic: unknown, field = 'topic'): string {
  assertParam(typeof topic === 'string' && TOPIC.test(topic) && topic !== '.' && topic !== '..', field, `must be a Kafka topic name (1..249 of letters, digits, . _ -), got ${JSON.stringify(topic)}`);
  return topic;
}

export interface EnsureTopicOptions extends KafkaConnectOptions {
  readonly topic: string;
  /** Partitions when the topic is created. Default 3. An existing topic is left as it is. */
  readonly partitions?: number;
  /** Default 1 (a single local broker). */
  readonly replicationFactor?: number;
  /** Topic configs when created, e.g. `{ 'retention.ms': '-1' }`. */
  readonly configs?: Readonly<Record<string, string>>;
}

export interface EnsureTopicResult {
  readonly topic: string;
  /** False when the topic already existed. */
  readonly created: boolean;
  /** The topic's actual partition count. */
  readonly partitions: number;
}

/** Creates `topic` with `partitions` partitions unless it exists; resolves with what is there. */
export async function ensureTopic(options: EnsureTopicOptions): Promise<EnsureTopicResult> {
  const topic = checkTopic(options?.topic);
  const partitions = checkInt(options.partitions ?? 3, 'partitions', 1, 100_000);
  const replicationFactor = checkInt(options.replicationFactor ?? 1, 'replicationFactor', 1, 1000);
  const admin = kafkaClient(options).admin();
  try {
    await admin.connect();
    const created = await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor,
          configEntries: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: true,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return { topic, created, partitions: metadata.topics[0]?.partitions.length ?? 0 };
  } catch (error) {
    if (error instanceof LambdalineError) throw error;
    throw new LambdalineError(`ensureTopic ${topic}: ${(error as Error).message}`, { field: 'topic', retriable: isRetriable(error), cause: error });
  } finally {
    await admin.disconnect();
  }
}

/** kafkajs errors carry `retriable`; anything else (a bug, a bad config) is not. */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}
