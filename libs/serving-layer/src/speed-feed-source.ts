/**
 * A `SpeedViewSource` over the speed layer's compacted feed topic (core
 * `speed-feed.ts`), for when the speed layer runs in another process.
 *
 * It reads the whole feed from the beginning with a consumer group of its own
 * that never commits, folding messages with core's `SpeedFeedReader` (one per
 * feed partition). Reading a *compacted* log replays states that never
 * existed (a row updated later sits at its later offset, so an early mark is
 * seen without it); so nothing is published for a feed partition until the
 * reader has reached the end offset the partition had when reading began.
 * From then on every mark is a state the speed layer really published, and is
 * emitted as a `SpeedChange`. If Kafka makes the consumer start a partition
 * over (a rejoin without committed offsets), that partition is replayed the
 * same way while the views published before stay served.
 */
import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  LambdalineError,
  SpeedFeedReader,
  type SpeedChange,
  type SpeedPartitionView,
  type SpeedStatus,
  type SpeedViewSource,
} from '@lambdaline/core';
import { Kafka, logLevel, type Admin, type Batch, type Consumer } from 'kafkajs';
import { Subject } from 'rxjs';
import { compareTopicPartitions, tpKey } from './selection.js';

export interface SpeedFeedSourceOptions {
  /** The compacted feed topic the speed layer publishes its views to. */
  readonly topic: string;
  /** Broker list (`host:port`, or several comma-separated); or pass `kafka`. */
  readonly brokers?: string | readonly string[];
  /** A configured KafkaJS client (SSL, SASL, logging...). */
  readonly kafka?: Kafka;
  readonly clientId?: string;
  /** Default: a new `lambdaline-serving-<uuid>` per source, deleted on close. Offsets are never committed. */
  readonly groupId?: string;
  /** How often to ask the brokers for the source partitions' end offsets, to report lag; 0 = never. Default 5000. */
  readonly lagPollMs?: number;
  /** Called on malformed feed messages (skipped, counted) and on consumer crashes. */
  readonly onError?: (error: Error) => void;
}

export interface SpeedFeedSource extends SpeedViewSource {
  /** Connects, subscribes from the beginning, and starts reading. */
  start(): Promise<void>;
  /** Resolves once every feed partition has been read up to the end it had when reading began. */
  caughtUp(): Promise<void>;
  /** Disconnects (and deletes the consumer group it made). */
  close(): Promise<void>;
  status(): SpeedStatus;
  /** Feed messages that could not be decoded and were skipped. */
  malformedMessages(): number;
}

/** The feed could not be read: the topic is missing, or the consumer crashed. */
export class SpeedFeedError extends LambdalineError {}

interface FeedPartition {
  reader: SpeedFeedReader;
  /** Next offset expected; a batch starting below it means Kafka started the partition over. */
  next: bigint;
  /** Replaying until this offset; null once live. */
  target: bigint | null;
  /** Source partitions (tp keys) published from this feed partition. */
  published: Set<string>;
}

export function speedFeedSource(options: SpeedFeedSourceOptions): SpeedFeedSource {
  if (typeof options?.topic !== 'string' || options.topic === '') throw new ConfigError('topic: must name the speed feed topic', 'topic');
  const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()).filter(Boolean) : options.brokers ? [...options.brokers] : [];
  if (!options.kafka && brokers.length === 0) throw new ConfigError('brokers: give at least one host:port, or a kafka client', 'brokers');
  const lagPollMs = options.lagPollMs ?? 5000;
  if (!Number.isFinite(lagPollMs) || lagPollMs < 0) throw new ConfigError(`lagPollMs: must be 0 (off) or a number of milliseconds, got ${lagPollMs}`, 'lagPollMs');

  const topic = options.topic;
  const kafka = options.kafka ?? new Kafka({ clientId: options.clientId ?? 'lambdaline-serving', brokers, logLevel: logLevel.ERROR });
  const ownGroup = options.groupId === undefined;
  const groupId = options.groupId ?? `lambdaline-serving-${randomUUID()}`;
  const changes = new Subject<SpeedChange>();
  const views = new Map<string, SpeedPartitionView>();
  const feed = new Map<number, FeedPartition>();
  const highWatermarks = new Map<string, bigint>();
  const rateSamples: Array<{ at: number; records: bigint }> = [];
  let malformed = 0;
  let consumer: Consumer | null = null;
  let admin: Admin | null = null;
  let lagTimer: NodeJS.Timeout | null = null;
  let startPromise: Promise<void> | null = null;
  let closed = false;
  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (error: Error) => void;
  const caughtUpPromise = new Promise<void>((resolve, reject) => {
    resolveCaughtUp = resolve;
    rejectCaughtUp = reject;
  });
  caughtUpPromise.catch(() => undefined);

  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));

  const checkCaughtUp = () => {
    if (feed.size > 0 && [...feed.values()].every((f) => f.target === null)) resolveCaughtUp();
  };

  /** Publishes what a feed partition holds now (after a replay) or what one batch changed. */
  const publish = (state: FeedPartition, updated: Map<string, SpeedPartitionView>, removed: Set<string>) => {
    const change: { updated: SpeedPartitionView[]; removed: Array<{ topic: string; partition: number }> } = { updated: [], removed: [] };
    for (const [key, view] of updated) {
      views.set(key, view);
      state.published.add(key);
      change.updated.push(view);
    }
    for (const key of removed) {
      const view = views.get(key);
      if (!view || updated.has(key)) continue;
      views.delete(key);
      state.published.delete(key);
      change.removed.push({ topic: view.topic, partition: view.partition });
    }
    if (change.updated.length > 0 || change.removed.length > 0) changes.next(change);
  };

  const onBatch = async (batch: Batch) => {
    if (closed || batch.isEmpty()) return;
    let state = feed.get(batch.partition);
    const first = BigInt(batch.firstOffset()!);
    if (!state || first < state.next) {
      // First read of the partition, or Kafka started it over: replay to the current end.
      state = { reader: new SpeedFeedReader(), next: 0n, target: BigInt(batch.highWatermark), published: state?.published ?? new Set() };
      feed.set(batch.partition, state);
    }
    const updated = new Map<string, SpeedPartitionView>();
    const removed = new Set<string>();
    for (const message of batch.messages) {
      const key = message.key?.toString('utf8') ?? '';
      const value = message.value === null ? null : message.value.toString('utf8');
      try {
        const view = state.reader.apply(key, value);
        if (view) {
          updated.set(tpKey(view.topic, view.partition), view);
        } else if (value === null && key.startsWith('mark|')) {
          const [, t, p] = key.split('|');
          const id = tpKey(t!, Number(p));
          updated.delete(id);
          removed.add(id);
        }
      } catch (error) {
        malformed++;
        report(new SpeedFeedError(`speed feed ${topic}[${batch.partition}] offset ${message.offset}: ${(error as Error).message}`, { cause: error }));
      }
    }
    state.next = BigInt(batch.lastOffset()) + 1n;
    if (state.target !== null) {
      if (state.next < state.target && batch.offsetLag() !== '0') return;
      state.target = null;
      const all = new Map(state.reader.views().map((v) => [tpKey(v.topic, v.partition), v] as const));
      const gone = new Set([...state.published].filter((key) => !all.has(key)));
      publish(state, all, gone);
      checkCaughtUp();
      return;
    }
    publish(state, updated, removed);
  };

  const pollLag = async () => {
    if (!admin || closed) return;
    const topics = new Set([...views.values()].map((v) => v.topic));
    for (const t of topics) {
      try {
        for (const p of await admin.fetchTopicOffsets(t)) highWatermarks.set(tpKey(t, p.partition), BigInt(p.high));
      } catch (error) {
        report(error);
      }
    }
  };

  const sampleRate = () => {
    let records = 0n;
    for (const v of views.values()) records += BigInt(v.nextOffset) - BigInt(v.baseOffset);
    const now = Date.now();
    rateSamples.push({ at: now, records });
    while (rateSamples.length > 2 && now - rateSamples[0]!.at > 10_000) rateSamples.shift();
  };

  const source: SpeedFeedSource = {
    partitions: () => [...views.values()],
    changes,
    start() {
      if (closed) return Promise.reject(new SpeedFeedError('start: the source is closed'));
      startPromise ??= (async () => {
        admin = kafka.admin();
        await admin.connect();
        let ends: Array<{ partition: number; offset: string; low: string; high: string }>;
        try {
          if (!(await admin.listTopics()).includes(topic)) throw new Error('no such topic');
          ends = await admin.fetchTopicOffsets(topic);
        } catch (error) {
          throw new SpeedFeedError(`topic ${topic}: cannot read its offsets (${(error as Error).message}); is it created?`, { field: 'topic', retriable: true, cause: error });
        }
        for (const end of ends) {
          const high = BigInt(end.high);
          const empty = high <= BigInt(end.low);
          feed.set(end.partition, { reader: new SpeedFeedReader(), next: 0n, target: empty ? null : high, published: new Set() });
        }
        checkCaughtUp();
        consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
        consumer.on(consumer.events.CRASH, (event) => {
          const error = event.payload.error;
          report(error);
          if (!event.payload.restart) rejectCaughtUp(new SpeedFeedError(`speed feed consumer crashed: ${error.message}`, { cause: error, retriable: true }));
        });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: ({ batch }) => onBatch(batch) });
        if (lagPollMs > 0) {
          const tick = () => {
            sampleRate();
            void pollLag().finally(() => {
              if (!closed) {
                lagTimer = setTimeout(tick, lagPollMs);
                lagTimer.unref();
              }
            });
          };
          tick();
        }
      })();
      return startPromise;
    },
    caughtUp: () => caughtUpPromise,
    async close() {
      if (closed) return;
      closed = true;
      if (lagTimer) clearTimeout(lagTimer);
      rejectCaughtUp(new SpeedFeedError('the source was closed before it caught up'));
      await startPromise?.catch(() => undefined);
      await consumer?.disconnect().catch(report);
      if (admin) {
        if (ownGroup && consumer) await admin.deleteGroups([groupId]).catch(() => undefined);
        await admin.disconnect().catch(report);
      }
      changes.complete();
    },
    status() {
      sampleRate();
      const partitions = [...views.values()]
        .map((v) => {
          const high = highWatermarks.get(tpKey(v.topic, v.partition));
          const lag = high === undefined ? null : Number(high > BigInt(v.nextOffset) ? high - BigInt(v.nextOffset) : 0n);
          return { topic: v.topic, partition: v.partition, nextOffset: v.nextOffset, highWatermark: high === undefined ? null : String(high), lag };
        })
        .sort(compareTopicPartitions);
      const first = rateSamples[0];
      const last = rateSamples[rateSamples.length - 1];
      const seconds = first && last ? (last.at - first.at) / 1000 : 0;
      const perSecond = first && last && seconds > 0 && last.records >= first.records ? Number(last.records - first.records) / seconds : 0;
      return {
        partitions,
        // From the feed only offsets are known: records past the horizon (valid or not) and their rate.
        eventsPerSecond: perSecond,
        eventsTotal: last ? Number(last.records) : 0,
        deadLetters: {},
      };
    },
    malformedMessages: () => malformed,
  };
  return source;
}
