/**
 * The interfaces the serving layer reads the other two layers through. They are
 * structural and live here so that no layer imports another: the batch layer's
 * dataset and the speed layer's view satisfy them as they are, and so do the
 * file and Kafka readers the serving layer uses when the layers run in other
 * processes. `Subscribable` is the part of an RxJS Observable the contracts
 * need, so an Observable can be passed directly.
 */
import type { Horizon } from './horizon.js';
import type { ViewRow } from './view-rows.js';

export interface Observer<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}
export interface Unsubscribable {
  unsubscribe(): void;
}
export interface Subscribable<T> {
  subscribe(observer: Partial<Observer<T>>): Unsubscribable;
}

/** Facts about the batch run that produced a snapshot. */
export interface BatchRunInfo {
  readonly mode: 'full' | 'incremental';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Valid records in the master dataset the views were computed over. */
  readonly recordCount: number;
  /** Days (UTC) whose rows were recomputed. */
  readonly daysRecomputed: number;
}

/** A published batch view set: immutable once published. */
export interface BatchSnapshot {
  /** Increases by one per publish. */
  readonly version: number;
  readonly createdAt: string;
  /** What the snapshot covers: every record below it, per partition, and all file history. */
  readonly horizon: Horizon;
  /** View name → rows (monoid parts), ordered by window then dimensions. */
  readonly views: Readonly<Record<string, readonly ViewRow[]>>;
  readonly run?: BatchRunInfo;
}

export interface BatchSnapshotSource {
  /** The snapshot being served now, or null before the first publish. */
  latest(): BatchSnapshot | null;
  /** Emits each newly published snapshot. */
  readonly snapshots: Subscribable<BatchSnapshot>;
  /** Why the last attempt to read a snapshot failed, for sources that read (files); null when fine. */
  lastError?(): Error | null;
}

/**
 * What the speed layer holds for one topic-partition: the views over exactly
 * the records with offsets in [baseOffset, nextOffset), minus those rejected
 * (invalid or too late). `baseOffset` is the batch horizon it was built from;
 * the serving layer merges it only with the batch snapshot of that same horizon.
 */
export interface SpeedPartitionView {
  readonly topic: string;
  readonly partition: number;
  /**
   * Changes whenever the partition view is rebuilt (restart, reassignment, new
   * horizon). Epochs sort as strings in creation order, across instances (use a
   * fixed-width time prefix), so readers can ignore a superseded owner's writes.
   */
  readonly epoch: string;
  /** Increases with every published update within an epoch. */
  readonly seq: number;
  readonly baseOffset: string;
  readonly nextOffset: string;
  /** Largest event time among the records folded (or from the horizon); epoch ms. */
  readonly maxEventTime: number | null;
  /** Events with event time before this are too late for the speed layer. */
  readonly watermark: number | null;
  /** Epoch ms of the last update. */
  readonly updatedAt: number;
  /** View name → rows (monoid parts). */
  readonly views: Readonly<Record<string, readonly ViewRow[]>>;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: string;
  /** High watermark of the partition when last asked; null when unknown (in-process). */
  readonly highWatermark: string | null;
  readonly lag: number | null;
}

export interface SpeedStatus {
  readonly partitions: readonly PartitionLag[];
  /** Valid events folded per second, recent average. */
  readonly eventsPerSecond: number;
  readonly eventsTotal: number;
  /** Dead letters by rejection code. */
  readonly deadLetters: Readonly<Record<string, number>>;
}

/** One notification from a speed source: partitions updated or given up (revoked). */
export interface SpeedChange {
  readonly updated: readonly SpeedPartitionView[];
  readonly removed: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

export interface SpeedViewSource {
  /** Every partition this source holds now. */
  partitions(): readonly SpeedPartitionView[];
  /** Emits what changed; apply in order. */
  readonly changes: Subscribable<SpeedChange>;
  status?(): SpeedStatus;
}
