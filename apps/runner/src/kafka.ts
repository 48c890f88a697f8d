/**
 * One kafkajs client per process, shared by every component (archiver feed,
 * speed source, feed publisher and reader, producer), its log routed to ours.
 */
import { ensureTopic } from '@lambdaline/generators';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { BrokerUnreachableError } from './exit-codes.js';
import type { Logger } from './log.js';

/** Consumer timeouts: a process killed with -9 leaves its group within 10 s, so a restart rejoins quickly. */
export const CONSUMER_TIMEOUTS = { sessionTimeout: 10_000, heartbeatInterval: 2_000, rebalanceTimeout: 30_000 } as const;

export function createKafka(brokers: readonly string[], clientId: string, log: Logger): Kafka {
  const level = log.enabled('debug') ? logLevel.WARN : logLevel.NOTHING;
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: level,
    logCreator:
      () =>
      ({ log: entry }: LogEntry) =>
        // kafkajs logs every retry as an error; failures that matter reach us as rejections.
        log.debug('kafkajs', `${entry.message}${entry.error ? `: ${String(entry.error)}` : ''}`),
  });
}

/**
 * Connects an admin client and asks for the cluster: fails with
 * `BrokerUnreachableError` (exit code 3) when no broker answers after kafkajs' retries.
 */
export async function checkBrokers(brokers: readonly string[], log: Logger): Promise<void> {
  // A client of its own: its connection retries (about 6 s in all) decide how long we wait.
  const kafka = new Kafka({
    clientId: 'lambdaline-check',
    brokers: [...brokers],
    connectionTimeout: 3_000,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 2_000 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const started = Date.now();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    log.debug('kafka', `connected to ${brokers.join(',')}: cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`);
  } catch (error) {
    throw new BrokerUnreachableError(
      `cannot reach the Kafka brokers ${brokers.join(',')} (gave up after ${((Date.now() - started) / 1000).toFixed(0)} s: ${(error as Error).message}); check --brokers / KAFKA_BROKERS`,
      error,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates the events topic with `partitions` unless it exists; returns its partition count. */
export async function ensureEventsTopic(kafka: Kafka, topic: string, partitions: number, log: Logger): Promise<number> {
  const result = await ensureTopic({ kafka, topic, partitions });
  if (result.created) log.info('kafka', `created topic ${topic} with ${result.partitions} partitions`);
  return result.partitions;
}

/**
 * The process's client (`clientId`) for the events topic: fails with
 * `BrokerUnreachableError` (exit code 3) when no broker answers, and creates
 * the topic with `partitions` unless it exists. Returns the client and the
 * topic's partition count.
 */
export async function connectToEventsTopic(
  options: { readonly brokers: readonly string[]; readonly topic: string; readonly partitions: number },
  clientId: string,
  log: Logger,
): Promise<{ kafka: Kafka; partitions: number }> {
  const kafka = createKafka(options.brokers, clientId, log);
  await checkBrokers(options.brokers, log);
  const partitions = await ensureEventsTopic(kafka, options.topic, options.partitions, log);
  return { kafka, partitions };
}

/** Creates the compacted speed-feed topic unless it exists (the feed reader needs it first; the publisher is told not to create it again). */
export async function ensureFeedTopic(kafka: Kafka, topic: string, log: Logger): Promise<void> {
  const result = await ensureTopic({ kafka, topic, partitions: 1, configs: { 'cleanup.policy': 'compact' } });
  if (result.created) log.info('kafka', `created compacted feed topic ${topic}`);
}
