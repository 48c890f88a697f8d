/**
 * One benchmark phase in its own process (so its peak RSS is its own):
 *
 *   phase.ts bare  <topic> <events>        kafkajs eachBatch loop that only JSON.parses
 *   phase.ts speed <topic> <events>        the speed layer maintaining both default views
 *   phase.ts fresh <topic> <out.json>      the speed layer following a live topic; on SIGTERM
 *                                          writes every change's (time, partition, nextOffset)
 *
 * Prints one JSON line with the result on stdout.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { createSpeedLayer, kafkaSource, resolveBrokers, type SpeedSource } from '../src/index.js';

const [mode, topic, arg] = process.argv.slice(2);
if (!mode || !topic || !arg) throw new Error('usage: phase.ts bare|speed|fresh <topic> <events|out.json>');
const brokers = resolveBrokers(process.env.KAFKA_BROKERS);
const groupId = `bench-${mode}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
// The same fetch settings for both loops.
const consumerConfig = { maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 100 };
const now = () => performance.timeOrigin + performance.now();
const rssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * The source with the time spent handling each batch added up (call until settled: what
 * kafkajs waits for before it fetches on), so that "processing" can be told apart from
 * fetching, kafkajs decoding and whatever runs in between.
 */
function timed(source: SpeedSource, add: (ms: number) => void): SpeedSource {
  return {
    kind: source.kind,
    topic: source.topic,
    start: (handler) =>
      source.start({
        ...handler,
        batch: async (batch) => {
          const t = performance.now();
          try {
            await handler.batch(batch);
          } finally {
            add(performance.now() - t);
          }
        },
      }),
    seek: (topic, partition, offset) => source.seek(topic, partition, offset),
    committed: (topic, partitions) => source.committed(topic, partitions),
    commit: (offsets) => source.commit(offsets),
    endOffsets: () => source.endOffsets(),
    deadLetterSink: () => source.deadLetterSink(),
    stop: () => source.stop(),
  };
}

async function bare(total: number) {
  const kafka = new Kafka({ clientId: 'bench-bare', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId, ...consumerConfig });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic!], fromBeginning: true });
  let count = 0;
  let checksum = 0;
  let t0 = 0;
  let processingMs = 0;
  let resolveDone!: (t: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      const t = performance.now();
      for (const message of batch.messages) {
        // Decoded as the speed layer decodes (`toString()`: Buffer's UTF-8 fast path, ≈ 30 ns less than `toString('utf8')`).
        const event = JSON.parse(message.value!.toString()) as { value2: number };
        checksum += event.value2;
      }
      count += batch.messages.length;
      processingMs += performance.now() - t;
      if (count >= total) resolveDone(now());
    },
  });
  // The timing window starts where the speed phase's does: once run() has returned, i.e. the
  // consumer has joined the group and has its assignment (start() of the speed layer returns there).
  t0 = now();
  processingMs = 0; // only batches inside the window
  const t1 = await done;
  await consumer.disconnect();
  const seconds = (t1 - t0) / 1000;
  return { mode: 'bare', events: count, seconds, eventsPerSecond: count / seconds, processingSeconds: processingMs / 1000, peakRssMB: rssMB(), checksum };
}

async function speed(total: number) {
  let processingMs = 0;
  const layer = createSpeedLayer({
    source: timed(kafkaSource({ topic: topic!, groupId, brokers, deadLetterTopic: null, consumer: consumerConfig }), (ms) => (processingMs += ms)),
  });
  let resolveDone!: (t: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const next = new Map<number, number>();
  layer.deltas.subscribe((d) => {
    for (const u of d.updated) next.set(u.partition, Number(u.nextOffset));
    let sum = 0;
    for (const n of next.values()) sum += n;
    if (sum >= total) resolveDone(now());
  });
  await layer.start(); // returns once kafkajs run() has: joined, assigned, seeked to the horizon
  const t0 = now();
  processingMs = 0; // only batches inside the window
  // Ends at the change (delta) that covers the last offset: the views are published, not just folded.
  const t1 = await done;
  const processingSeconds = processingMs / 1000;
  const status = layer.status();
  const rows = Object.fromEntries(layer.views.map((v) => [v.name, layer.view(v.name).length]));
  await layer.stop();
  const seconds = (t1 - t0) / 1000;
  return { mode: 'speed', events: status.eventsTotal, seconds, eventsPerSecond: status.eventsTotal / seconds, processingSeconds, peakRssMB: rssMB(), rows, bufferedRecords: status.bufferedRecords };
}

async function fresh(out: string) {
  const layer = createSpeedLayer({
    source: kafkaSource({ topic: topic!, groupId, brokers, deadLetterTopic: null, consumer: consumerConfig }),
  });
  const emissions: Array<[number, number, number]> = [];
  layer.changes.subscribe((c) => {
    const t = now();
    for (const v of c.updated) emissions.push([t, v.partition, Number(v.nextOffset)]);
  });
  await layer.start();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  const status = layer.status();
  await layer.stop();
  writeFileSync(out, JSON.stringify(emissions));
  return { mode: 'fresh', events: status.eventsTotal, emissions: emissions.length, peakRssMB: rssMB() };
}

const result = mode === 'bare' ? await bare(Number(arg)) : mode === 'speed' ? await speed(Number(arg)) : await fresh(arg);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
