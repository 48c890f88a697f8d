/**
 * Publishes the speed views as upserts to a compacted Kafka topic in core's
 * speed-feed format, so a serving layer in another process can follow them
 * with core's `SpeedFeedReader`.
 *
 * Per source partition, one flush writes, in order: on a new epoch, a
 * tombstone for every row key the previous epoch published and no longer has,
 * then every row; otherwise the rows that changed and a tombstone for every
 * evicted row; then the mark. All messages of a source partition go to one
 * feed partition (chosen from `speedFeedPartitionKey`), in order, through an
 * idempotent producer. Flushes are throttled (`flushIntervalMs`), coalescing
 * the changes in between: a row changed ten times is written once.
 */
import {
  assertParam,
  encodeSpeedFeedMark,
  encodeSpeedFeedRow,
  encodeSpeedFeedTombstone,
  rowKey,
  speedFeedPartitionKey,
  type SpeedFeedMark,
  type SpeedFeedMessage,
  type SpeedPartitionView,
  type Subscribable,
  type Unsubscribable,
  type ViewRow,
} from '@lambdaline/core';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Subject, type Observable } from 'rxjs';
import { brokerError, SpeedLayerError } from './errors.js';
import { ensureTopic, kafkaClient, type KafkaConnectionOptions } from './kafka.js';
import type { SpeedDelta } from './speed-layer.js';

interface PendingPartition {
  readonly topic: string;
  readonly partition: number;
  /** A new epoch: `rows` is the complete view and replaces everything. */
  reset: boolean;
  /** View → row key → row (null = remove). */
  readonly rows: Map<string, Map<string, ViewRow | null>>;
  mark: SpeedFeedMark;
}

/** The messages of one source partition for one flush, in the order they must be written. */
export interface SpeedFeedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: SpeedFeedMessage[];
}

/**
 * The pure half of the publisher: folds speed deltas into the feed messages
 * to write next. No Kafka here, so it is tested against core's reader alone.
 */
export class SpeedFeedEncoder {
  private pending = new Map<string, PendingPartition>();
  /** Per source partition: view → row keys the feed holds for the current epoch. */
  private readonly published = new Map<string, Map<string, Set<string>>>();
  private readonly epochs = new Map<string, string>();

  /** Starts every partition over from a full view (on attach). */
  seed(views: readonly SpeedPartitionView[]): void {
    for (const view of views) {
      this.applyDelta({ ...markOf(view), reset: true, upserts: view.views, removed: {} });
    }
  }

  apply(delta: SpeedDelta, fullView?: (topic: string, partition: number) => SpeedPartitionView | undefined): void {
    for (const d of delta.updated) {
      const key = speedFeedPartitionKey(d.topic, d.partition);
      if (!d.reset && this.epochs.get(key) !== d.epoch) {
        // We missed this epoch's first delta (attached late): publish it whole.
        const view = fullView?.(d.topic, d.partition);
        if (view) this.seed([view]);
        continue;
      }
      this.applyDelta({ ...markOf(d), reset: d.reset, upserts: d.upserts, removed: d.removed });
    }
    for (const r of delta.removed) {
      // Given up (rebalance): stop writing it. The new owner's first mark replaces it in readers.
      const key = speedFeedPartitionKey(r.topic, r.partition);
      this.pending.delete(key);
      this.published.delete(key);
      this.epochs.delete(key);
    }
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Takes what is pending as ordered messages, one batch per source partition. */
  take(): SpeedFeedBatch[] {
    const out: SpeedFeedBatch[] = [];
    for (const [key, p] of this.pending) {
      const messages: SpeedFeedMessage[] = [];
      const { epoch, seq } = p.mark;
      if (p.reset) {
        const previous = this.published.get(key);
        const now = new Map<string, Set<string>>();
        for (const [view, rows] of p.rows) now.set(view, new Set(rows.keys()));
        if (previous) {
          for (const [view, keys] of previous) {
            const kept = now.get(view);
            for (const k of keys) if (!kept?.has(k)) messages.push(encodeSpeedFeedTombstone(view, p.topic, p.partition, k));
          }
        }
        for (const [view, rows] of p.rows) for (const [k, row] of rows) if (row) messages.push(encodeSpeedFeedRow(view, p.topic, p.partition, row, epoch, seq, k));
        this.published.set(key, now);
      } else {
        let held = this.published.get(key);
        if (!held) {
          held = new Map();
          this.published.set(key, held);
        }
        for (const [view, rows] of p.rows) {
          let keys = held.get(view);
          if (!keys) {
            keys = new Set();
            held.set(view, keys);
          }
          for (const [k, row] of rows) {
            if (row) {
              messages.push(encodeSpeedFeedRow(view, p.topic, p.partition, row, epoch, seq, k));
              keys.add(k);
            } else if (keys.delete(k)) {
              messages.push(encodeSpeedFeedTombstone(view, p.topic, p.partition, k));
            }
          }
        }
      }
      messages.push(encodeSpeedFeedMark(p.mark));
      out.push({ topic: p.topic, partition: p.partition, messages });
    }
    this.pending = new Map();
    return out;
  }

  private applyDelta(d: {
    mark: SpeedFeedMark;
    reset: boolean;
    upserts: Readonly<Record<string, readonly ViewRow[]>>;
    removed: Readonly<Record<string, readonly string[]>>;
  }): void {
    const key = speedFeedPartitionKey(d.mark.topic, d.mark.partition);
    this.epochs.set(key, d.mark.epoch);
    let p = this.pending.get(key);
    if (d.reset || !p) {
      p = { topic: d.mark.topic, partition: d.mark.partition, reset: d.reset, rows: new Map(), mark: d.mark };
      this.pending.set(key, p);
    }
    p.mark = d.mark;
    for (const [view, rows] of Object.entries(d.upserts)) {
      let map = p.rows.get(view);
      if (!map) {
        map = new Map();
        p.rows.set(view, map);
      }
      for (const row of rows) map.set(rowKey(row.windowStart, row.dims), row);
    }
    for (const [view, keys] of Object.entries(d.removed)) {
      if (keys.length === 0) continue;
      let map = p.rows.get(view);
      if (!map) {
        map = new Map();
        p.rows.set(view, map);
      }
      for (const k of keys) {
        if (p.reset) map.delete(k);
        else map.set(k, null);
      }
    }
  }
}

function markOf(v: Omit<SpeedPartitionView, 'views'>): { mark: SpeedFeedMark } {
  return {
    mark: {
      topic: v.topic,
      partition: v.partition,
      epoch: v.epoch,
      seq: v.seq,
      baseOffset: v.baseOffset,
      nextOffset: v.nextOffset,
      maxEventTime: v.maxEventTime,
      watermark: v.watermark,
      at: v.updatedAt,
    },
  };
}

/** Which feed partition carries a source partition: stable FNV-1a of `speedFeedPartitionKey`. */
export function speedFeedPartitionFor(topic: string, partition: number, feedPartitions: number): number {
  const text = speedFeedPartitionKey(topic, partition);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % feedPartitions;
}

/** What the publisher reads: a `SpeedLayer` fits. */
export interface SpeedFeedSource {
  partitions(): readonly SpeedPartitionView[];
  partition?(topic: string, partition: number): SpeedPartitionView | undefined;
  readonly deltas: Subscribable<SpeedDelta>;
}

export interface SpeedFeedPublisherOptions extends KafkaConnectionOptions {
  /** The compacted feed topic. */
  readonly topic: string;
  /** Partitions when creating the topic. Default 1. */
  readonly partitions?: number;
  /** Replication factor when creating the topic. Default: the broker's. */
  readonly replicationFactor?: number;
  /** Create the topic (with `cleanup.policy=compact`) if missing. Default true. */
  readonly createTopic?: boolean;
  /** Least time between two flushes; changes in between are coalesced. Default 100 ms. */
  readonly flushIntervalMs?: number;
  /** Messages per produce request. Default 1000. */
  readonly maxMessagesPerRequest?: number;
}

export interface SpeedFeedPublisherStatus {
  readonly running: boolean;
  readonly flushes: number;
  readonly messagesPublished: number;
  /** Epoch ms of the last successful flush. */
  readonly lastFlushAt: number | null;
  readonly lastError: string | null;
}

export class SpeedFeedPublisher {
  readonly topic: string;
  /** Publishing failures (each is retried). */
  readonly errors: Observable<SpeedLayerError>;
  private readonly kafka: Kafka;
  private readonly encoder = new SpeedFeedEncoder();
  private readonly flushIntervalMs: number;
  private readonly maxPerRequest: number;
  private readonly errorsSubject = new Subject<SpeedLayerError>();
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  private feedPartitions = 1;
  private subscription: Unsubscribable | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private running = false;
  private flushes = 0;
  private messagesPublished = 0;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly source: SpeedFeedSource,
    private readonly options: SpeedFeedPublisherOptions,
  ) {
    assertParam(typeof source?.partitions === 'function' && typeof source.deltas?.subscribe === 'function', 'source', 'must be a speed layer (partitions() and deltas)');
    assertParam(typeof options?.topic === 'string' && options.topic !== '', 'topic', 'must name the feed topic');
    assertParam(options.partitions === undefined || (Number.isInteger(options.partitions) && options.partitions >= 1), 'partitions', 'must be a positive integer');
    assertParam(options.flushIntervalMs === undefined || (Number.isFinite(options.flushIntervalMs) && options.flushIntervalMs >= 1), 'flushIntervalMs', 'must be at least 1 ms');
    assertParam(options.maxMessagesPerRequest === undefined || (Number.isInteger(options.maxMessagesPerRequest) && options.maxMessagesPerRequest >= 1), 'maxMessagesPerRequest', 'must be a positive integer');
    this.topic = options.topic;
    this.kafka = kafkaClient(options, 'lambdaline-speed-feed');
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.maxPerRequest = options.maxMessagesPerRequest ?? 1000;
    this.errors = this.errorsSubject.asObservable();
  }

  /** Creates the topic if needed, connects, publishes every current partition, then follows changes. */
  async start(): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      if (this.options.createTopic !== false) {
        await ensureTopic(admin, {
          topic: this.topic,
          numPartitions: this.options.partitions ?? 1,
          ...(this.options.replicationFactor === undefined ? {} : { replicationFactor: this.options.replicationFactor }),
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        });
      }
      const metadata = await admin.fetchTopicMetadata({ topics: [this.topic] });
      this.feedPartitions = Math.max(1, metadata.topics[0]?.partitions.length ?? 1);
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await this.producer.connect();
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw brokerError(`starting the speed feed publisher on ${this.topic}`, error);
    }
    this.running = true;
    this.encoder.seed(this.source.partitions());
    this.subscription = this.source.deltas.subscribe({
      next: (delta) => {
        this.encoder.apply(delta, (t, p) => this.source.partition?.(t, p) ?? this.source.partitions().find((v) => v.topic === t && v.partition === p));
        this.schedule();
      },
    });
    this.schedule();
  }

  /** Writes everything pending now; resolves when the broker acknowledged it. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.encoder.hasPending || !this.producer) return;
    this.flushing = this.write(this.encoder.take()).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Publishes what is pending, stops following, disconnects. */
  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.flush().catch(() => undefined);
    this.running = false;
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
    this.errorsSubject.complete();
  }

  status(): SpeedFeedPublisherStatus {
    return { running: this.running, flushes: this.flushes, messagesPublished: this.messagesPublished, lastFlushAt: this.lastFlushAt, lastError: this.lastError };
  }

  private schedule(): void {
    if (this.timer || !this.running) return;
    const since = this.lastFlushAt === null ? Number.POSITIVE_INFINITY : Date.now() - this.lastFlushAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().then(() => {
        if (this.encoder.hasPending) this.schedule();
      });
    }, Math.max(0, this.flushIntervalMs - since));
  }

  private async write(batches: SpeedFeedBatch[]): Promise<void> {
    const messages: Array<{ key: string; value: string | null; partition: number }> = [];
    for (const batch of batches) {
      const partition = speedFeedPartitionFor(batch.topic, batch.partition, this.feedPartitions);
      for (const m of batch.messages) messages.push({ key: m.key, value: m.value, partition });
    }
    let backoff = 100;
    for (let i = 0; i < messages.length; ) {
      const chunk = messages.slice(i, i + this.maxPerRequest);
      try {
        if (!this.producer) return;
        await this.producer.send({ topic: this.topic, acks: -1, messages: chunk });
        i += chunk.length;
        this.messagesPublished += chunk.length;
        backoff = 100;
      } catch (error) {
        const e = new SpeedLayerError('feed_publish', `publishing ${chunk.length} speed feed messages to ${this.topic} failed (retrying in ${backoff} ms): ${(error as Error).message}`, {
          retriable: true,
          cause: error,
        });
        this.lastError = e.message;
        this.errorsSubject.next(e);
        if (!this.running) throw e;
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
    this.flushes++;
    this.lastFlushAt = Date.now();
  }
}

/** Creates and starts a publisher of `layer`'s views to the compacted topic `options.topic`. */
export async function publishSpeedFeed(layer: SpeedFeedSource, options: SpeedFeedPublisherOptions): Promise<SpeedFeedPublisher> {
  const publisher = new SpeedFeedPublisher(layer, options);
  await publisher.start();
  return publisher;
}
