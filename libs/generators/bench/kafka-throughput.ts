/**
 * Producer throughput into the real broker, batch sizes side by side, from a
 * sync iterable (`generateMessages`, backpressure) to a fresh 3-partition
 * topic that is deleted afterwards.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx libs/generators/bench/kafka-throughput.ts [--messages 200000]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { defaultBrokers, ensureTopic, generateMessages, produceToKafka } from '../src/index.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '200000' } } });
const messages = Number(values.messages);
const kafka = new Kafka({ clientId: 'generators-bench', brokers: defaultBrokers(), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topics: string[] = [];
try {
  console.log(`node ${process.version}, ${messages.toLocaleString('en-US')} messages (10% malformed) per run, 3 partitions, acks -1, idempotent\n`);
  for (const batchSize of [100, 1000, 5000]) {
    const topic = `gen-bench-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    await ensureTopic({ kafka, topic, partitions: 3 });
    const result = await produceToKafka({ kafka, topic, batchSize, source: generateMessages({ seed: 1, count: messages, malformedShare: 0.1 }) });
    const rate = Math.round(result.produced / (result.durationMs / 1000));
    console.log(`batchSize ${String(batchSize).padStart(5)}: ${(result.durationMs / 1000).toFixed(2).padStart(7)} s ${rate.toLocaleString('en-US').padStart(10)} messages/s`);
  }
} finally {
  await admin.deleteTopics({ topics });
  await admin.disconnect();
}
