/**
 * Everything the speed layer holds for one topic-partition in one epoch: the
 * views over exactly the records with offsets in [base, next), minus the
 * invalid and too-late ones, and the watermark that decides "too late".
 */
import type { ResolvedViewSpec, SpeedPartitionView, ViewRow } from '@lambdaline/core';
import type { ReplayBuffer } from './replay-buffer.js';
import { ViewState } from './view-state.js';

/** The key of a topic-partition in the speed layer's per-partition maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}

export class PartitionState {
  readonly key: string;
  seq = 0;
  /** Exclusive end of what was read: the next offset to fold. */
  next: number;
  /**
   * Largest event time of every valid record of the partition below `next`
   * (seeded from the horizon's `maxEventTime`); -Infinity when none.
   */
  maxTime: number;
  /** A seek was issued and its batch has not arrived yet: the position it asked for. */
  awaiting: number | null = null;
  readonly views: ViewState[];
  buffer: ReplayBuffer | null;
  /** Emit a change even if no row changed (offsets moved, new epoch, ...). */
  dirty = true;
  /** The epoch has not been published yet: its first delta carries every row. */
  reset = true;
  updatedAt: number;
  highWatermark: number | null = null;
  /** maxTime − retention at the last eviction. */
  evictedUpTo = Number.NEGATIVE_INFINITY;
  private cached: SpeedPartitionView | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly epoch: string,
    /** The horizon end offset this epoch starts at. */
    readonly base: number,
    seed: number | null,
    specs: readonly ResolvedViewSpec[],
    buffer: ReplayBuffer | null,
    now: number,
  ) {
    this.key = partitionKey(topic, partition);
    this.next = base;
    this.maxTime = seed ?? Number.NEGATIVE_INFINITY;
    this.views = specs.map((spec) => new ViewState(spec));
    this.buffer = buffer;
    this.updatedAt = now;
  }

  get maxEventTime(): number | null {
    return this.maxTime === Number.NEGATIVE_INFINITY ? null : this.maxTime;
  }

  watermark(allowedLatenessMs: number): number | null {
    return this.maxTime === Number.NEGATIVE_INFINITY ? null : this.maxTime - allowedLatenessMs;
  }

  /** Drops windows that ended at or before maxTime − retention. */
  evict(retentionMs: number): void {
    if (this.maxTime === Number.NEGATIVE_INFINITY) return;
    const threshold = this.maxTime - retentionMs;
    if (threshold <= this.evictedUpTo) return;
    this.evictedUpTo = threshold;
    for (const view of this.views) view.evictWindowsEndingBy(threshold);
  }

  /** The published view as of the last flush (cached per seq). */
  snapshot(allowedLatenessMs: number): SpeedPartitionView {
    if (this.cached !== null && this.cached.seq === this.seq) return this.cached;
    const views: Record<string, readonly ViewRow[]> = {};
    for (const view of this.views) views[view.spec.name] = view.rows();
    this.cached = {
      topic: this.topic,
      partition: this.partition,
      epoch: this.epoch,
      seq: this.seq,
      baseOffset: String(this.base),
      nextOffset: String(this.next),
      maxEventTime: this.maxEventTime,
      watermark: this.watermark(allowedLatenessMs),
      updatedAt: this.updatedAt,
      views,
    };
    return this.cached;
  }
}
