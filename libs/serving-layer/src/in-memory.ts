/**
 * In-process sources: the simplest things that satisfy core's
 * `BatchSnapshotSource` and `SpeedViewSource`. Use them to embed the serving
 * layer alone (hand-made or computed snapshots), in tests, or as the glue when
 * the batch and speed layers run in this process and push what they publish.
 */
import {
  ConfigError,
  type BatchSnapshot,
  type BatchSnapshotSource,
  type SpeedChange,
  type SpeedPartitionView,
  type SpeedStatus,
  type SpeedViewSource,
} from '@lambdaline/core';
import { Subject } from 'rxjs';
import { tpKey } from './selection.js';

export interface InMemoryBatchSource extends BatchSnapshotSource {
  /** Makes `snapshot` the latest and emits it. Versions must increase. */
  publish(snapshot: BatchSnapshot): void;
}

export function inMemoryBatchSource(initial: BatchSnapshot | null = null): InMemoryBatchSource {
  let latest = initial;
  const snapshots = new Subject<BatchSnapshot>();
  return {
    latest: () => latest,
    snapshots,
    publish(snapshot) {
      if (latest && snapshot.version <= latest.version) {
        throw new ConfigError(`snapshot.version: ${snapshot.version} is not after the latest published version ${latest.version}`, 'snapshot.version');
      }
      latest = snapshot;
      snapshots.next(snapshot);
    },
  };
}

export interface InMemorySpeedSource extends SpeedViewSource {
  /** Replaces the views of these partitions and emits one change. */
  put(...views: SpeedPartitionView[]): void;
  /** Gives up a partition (as on a revoke) and emits it as removed. */
  remove(topic: string, partition: number): void;
  /** What `status()` returns; null removes `status()` (nothing known about lag and rates). */
  setStatus(status: SpeedStatus | null): void;
}

export function inMemorySpeedSource(initial: readonly SpeedPartitionView[] = [], status: SpeedStatus | null = null): InMemorySpeedSource {
  const views = new Map<string, SpeedPartitionView>();
  for (const view of initial) views.set(tpKey(view.topic, view.partition), view);
  const changes = new Subject<SpeedChange>();
  const source: InMemorySpeedSource = {
    partitions: () => [...views.values()],
    changes,
    put(...updated) {
      for (const view of updated) views.set(tpKey(view.topic, view.partition), view);
      changes.next({ updated, removed: [] });
    },
    remove(topic, partition) {
      if (!views.delete(tpKey(topic, partition))) return;
      changes.next({ updated: [], removed: [{ topic, partition }] });
    },
    setStatus(next) {
      // Without a status the source has no `status()` at all, as the contract allows.
      if (next === null) delete (source as { status?: unknown }).status;
      else (source as { status?: () => SpeedStatus }).status = () => next;
    },
  };
  source.setStatus(status);
  return source;
}
