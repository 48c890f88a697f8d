/** Small kafkajs helpers shared by the Kafka source and the feed publisher. */
import { assertParam } from '@lambdaline/core';
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import { brokerError } from './errors.js';

export const DEFAULT_BROKERS = '127.0.0.1:9092';

/** Connection options shared by everything that talks to Kafka here. */
export interface KafkaConnectionOptions {
  /** An existing kafkajs client to use; otherwise one is made from `brokers`. */
  readonly kafka?: Kafka;
  /** `host:port` list (array or comma-separated). Default: env `KAFKA_BROKERS`, else `127.0.0.1:9092`. */
  readonly brokers?: readonly string[] | string;
  /** Default `lambdaline-speed`. */
  readonly clientId?: string;
}

export function resolveBrokers(brokers: readonly string[] | string | undefined): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : brokers ?? (process.env.KAFKA_BROKERS ?? DEFAULT_BROKERS).split(','))
    .map((b) => b.trim())
    .filter((b) => b !== '');
  assertParam(list.length > 0, 'brokers', 'must list at least one host:port');
  for (const b of list) assertParam(/^[^\s:]+:\d+$/.test(b), 'brokers', `${JSON.stringify(b)} is not host:port`);
  return list;
}

export function kafkaClient(options: KafkaConnectionOptions, defaultClientId: string): Kafka {
  if (options.kafka) return options.kafka;
  return new Kafka({
    clientId: options.clientId ?? defaultClientId,
    brokers: resolveBrokers(options.brokers),
    logLevel: logLevel.ERROR,
  });
}

/** Creates a topic unless it exists. Returns true when it was created. */
export async function ensureTopic(admin: Admin, topic: ITopicConfig): Promise<boolean> {
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic.topic)) return false;
    return await admin.createTopics({ topics: [topic], waitForLeaders: true });
  } catch (error) {
    // Another process may have created it in between.
    if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return false;
    const nested = (error as { errors?: Array<{ type?: string }> }).errors;
    if (nested?.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')) return false;
    throw brokerError(`creating topic ${topic.topic}`, error);
  }
}
