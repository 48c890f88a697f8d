/**
 * Feeding the batch layer's archiver. The batch layer does not talk to Kafka;
 * the runner reads the log with a speed-layer source (`kafkaSource` in its own
 * consumer group `<prefix>-archiver`, or `inProcessSource` over the demo's
 * `InProcessLog`) and hands the records over:
 *
 * - On every (re)assignment each partition is sought to the dataset's archived
 *   horizon (the manifest's end offset), so a restart re-reads exactly what was
 *   not archived yet, whatever the group's committed offsets say.
 * - Offsets are committed only after the archiver committed the records to the
 *   manifest (for lag monitoring; they never decide where reading starts).
 *
 * The archiver skips offsets already in the manifest, so re-reading is harmless.
 */
import { horizonEndOffset, type SourceRecord } from '@lambdaline/core';
import type { Archiver, MasterDataset } from '@lambdaline/batch-layer';
import type { SpeedSource } from '@lambdaline/speed-layer';
import { formatCount, type Logger } from './log.js';

export class ArchiveFeed {
  /** Rejects when the feed fails for good (the process should stop). */
  readonly failed: Promise<never>;
  private fail!: (error: unknown) => void;
  private archiver: Archiver | null = null;

  constructor(
    private readonly dataset: MasterDataset,
    private readonly source: SpeedSource,
    private readonly log: Logger,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
  }

  async start(): Promise<void> {
    const { source, log } = this;
    const topic = source.topic;
    const archiver = this.dataset.createArchiver({
      onCommit: async (info) => {
        log.debug('archiver', `commit ${info.seq}: ${formatCount(info.records)} records (${formatCount(info.quarantined)} quarantined)`);
        // The records are in the manifest now: tell the group (monitoring only).
        const ends = new Map<number, bigint>();
        for (const r of info.ranges) if (r.topic === topic && (ends.get(r.partition) ?? -1n) < BigInt(r.to)) ends.set(r.partition, BigInt(r.to));
        await source
          .commit([...ends].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })))
          .catch((error: unknown) => log.debug('archiver', `committing consumer offsets: ${(error as Error).message}`));
      },
    });
    this.archiver = archiver;
    await source.start({
      assigned: (partitions) => {
        const horizon = this.dataset.horizon();
        for (const { partition } of partitions) source.seek(topic, partition, horizonEndOffset(horizon, topic, partition).toString());
        log.debug('archiver', `assigned ${topic} partitions ${partitions.map((p) => p.partition).join(',') || '(none)'}; reading from the archived horizon`);
      },
      batch: async (batch) => {
        if (batch.isStale() || batch.messages.length === 0) return;
        const records: SourceRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ?? null,
          value: m.value,
          ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
        }));
        try {
          await archiver.write(records);
        } catch (error) {
          // The archiver stops after a failed commit (nothing past the hole may be archived): so do we.
          this.fail(error);
          throw error;
        }
      },
      failed: (error) => this.fail(error),
    });
  }

  /** Commits what the archiver holds now (before a batch run, so it covers everything read). */
  async flush(): Promise<void> {
    await this.archiver?.flush();
  }

  /** Stops reading (waits for the batch in flight), commits what is buffered, closes the archiver. */
  async stop(): Promise<void> {
    await this.source.stop().catch(() => undefined);
    await this.archiver?.close().catch((error: unknown) => this.log.error('archiver', `closing: ${(error as Error).message}`));
  }
}
