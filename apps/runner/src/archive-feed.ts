/**
 * Feeding the batch layer's archiver. The batch layer does not talk to Kafka;
 * the runner reads the log and hands the records over:
 *
 * - from Kafka, with a kafkajs consumer in its own group (`<prefix>-archiver`).
 *   On every (re)assignment each partition is sought to the dataset's archived
 *   horizon (the manifest's end offset), so a restart re-reads exactly what was
 *   not archived yet, whatever the group's committed offsets say. Offsets are
 *   committed only after the archiver committed the records to the manifest
 *   (for lag monitoring; they never decide where reading starts).
 * - from the speed layer's `InProcessLog` (demo), partition by partition.
 *
 * The archiver skips offsets already in the manifest, so re-reading is harmless.
 */
import { horizonEndOffset, type SourceRecord } from '@lambdaline/core';
import type { ArchiveCommitInfo, Archiver, MasterDataset } from '@lambdaline/batch-layer';
import type { InProcessLog } from '@lambdaline/speed-layer';
import type { Consumer, Kafka } from 'kafkajs';
import { CONSUMER_TIMEOUTS } from './kafka.js';
import { formatCount, type Logger } from './log.js';

export interface ArchiveFeed {
  start(): Promise<void>;
  /** Commits what the archiver holds now (before a batch run, so it covers everything read). */
  flush(): Promise<void>;
  /** Stops reading, commits what is buffered, closes the archiver. */
  stop(): Promise<void>;
  /** Rejects when the feed fails for good (the process should stop). */
  readonly failed: Promise<never>;
  stats(): { records: number; commits: number };
}

abstract class BaseFeed implements ArchiveFeed {
  protected archiver: Archiver | null = null;
  protected records = 0;
  protected commits = 0;
  readonly failed: Promise<never>;
  protected fail!: (error: unknown) => void;

  constructor(
    protected readonly dataset: MasterDataset,
    protected readonly log: Logger,
    private readonly chunkMs: number | undefined,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
  }

  protected openArchiver(onCommit?: (info: ArchiveCommitInfo) => Promise<void>): Archiver {
    this.archiver = this.dataset.createArchiver({
      ...(this.chunkMs === undefined ? {} : { chunkMs: this.chunkMs }),
      onCommit: async (info) => {
        this.commits++;
        this.log.debug('archiver', `commit ${info.seq}: ${formatCount(info.records)} records (${formatCount(info.quarantined)} quarantined)`);
        await onCommit?.(info);
      },
    });
    return this.archiver;
  }

  async flush(): Promise<void> {
    await this.archiver?.flush();
  }

  stats() {
    return { records: this.records, commits: this.commits };
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

export interface KafkaArchiveFeedOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  /** Archiver commits at the latest this long after the first buffered record (default: the batch layer's). */
  readonly chunkMs?: number;
}

export class KafkaArchiveFeed extends BaseFeed {
  private consumer: Consumer | null = null;
  private stopping = false;

  constructor(
    dataset: MasterDataset,
    log: Logger,
    private readonly options: KafkaArchiveFeedOptions,
  ) {
    super(dataset, log, options.chunkMs);
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId } = this.options;
    const consumer = kafka.consumer({ groupId, ...CONSUMER_TIMEOUTS, maxBytesPerPartition: 4 << 20, maxBytes: 16 << 20, maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    this.openArchiver(async (info) => {
      // The records are in the manifest now: tell the group (monitoring only).
      const ends = new Map<number, bigint>();
      for (const r of info.ranges) if (r.topic === topic && (ends.get(r.partition) ?? -1n) < BigInt(r.to)) ends.set(r.partition, BigInt(r.to));
      if (ends.size === 0 || this.stopping) return;
      await consumer
        .commitOffsets([...ends].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })))
        .catch((error: unknown) => this.log.debug('archiver', `committing consumer offsets: ${(error as Error).message}`));
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const horizon = this.dataset.horizon();
      const partitions = [...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      for (const partition of partitions) {
        const offset = horizonEndOffset(horizon, topic, partition);
        consumer.seek({ topic, partition, offset });
      }
      this.log.debug('archiver', `assigned ${topic} partitions ${partitions.join(',') || '(none)'}; reading from the archived horizon`);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.stopping) this.fail(event.payload.error);
      else this.log.warn('archiver', `the Kafka consumer restarts after: ${event.payload.error.message}`);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, isStale, heartbeat }) => {
        if (isStale() || batch.messages.length === 0) return;
        const records: SourceRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestamp: m.timestamp,
        }));
        try {
          await this.archiver!.write(records);
        } catch (error) {
          // The archiver stops after a failed commit (nothing past the hole may be archived): so do we.
          this.fail(error);
          throw error;
        }
        this.records += records.length;
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const consumer = this.consumer;
    // Stop fetching first (waits for the batch in flight), then commit what is buffered.
    await consumer?.stop().catch(() => undefined);
    await this.archiver?.close().catch((error: unknown) => this.log.error('archiver', `closing: ${(error as Error).message}`));
    await consumer?.disconnect().catch(() => undefined);
  }
}

/** The demo's feed: every partition of an `InProcessLog` topic, from the archived horizon on. */
export class InProcessArchiveFeed extends BaseFeed {
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    dataset: MasterDataset,
    log: Logger,
    private readonly source: InProcessLog,
    private readonly topic: string,
    chunkMs?: number,
  ) {
    super(dataset, log, chunkMs);
  }

  async start(): Promise<void> {
    const archiver = this.openArchiver();
    this.running = true;
    this.unsubscribe = this.source.onAppend(this.topic, () => this.wake?.());
    const horizon = this.dataset.horizon();
    const positions = Array.from({ length: this.source.partitionCount(this.topic) }, (_, p) => Number(horizonEndOffset(horizon, this.topic, p)));
    this.loop = (async () => {
      while (this.running) {
        let progress = false;
        for (let p = 0; p < positions.length && this.running; p++) {
          const records = this.source.read(this.topic, p, positions[p]!, 5_000);
          if (records.length === 0) continue;
          await archiver.write(records);
          positions[p]! += records.length;
          this.records += records.length;
          progress = true;
        }
        if (!progress && this.running) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    })().catch((error: unknown) => this.fail(error));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await this.archiver?.close().catch((error: unknown) => this.log.error('archiver', `closing: ${(error as Error).message}`));
  }
}
