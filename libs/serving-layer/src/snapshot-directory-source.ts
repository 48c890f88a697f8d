/**
 * A `BatchSnapshotSource` over a directory the batch layer publishes to in
 * core's snapshot format (`CURRENT` pointer + immutable version directories),
 * for when the batch layer runs in another process. It polls the pointer (one
 * small file read) and reads a version completely before emitting it, so the
 * serving layer sees the old snapshot or the new one, never a mix.
 */
import {
  ConfigError,
  readCurrentSnapshot,
  readSnapshotPointer,
  type BatchSnapshot,
  type BatchSnapshotSource,
} from '@lambdaline/core';
import { Subject } from 'rxjs';

export interface SnapshotDirectorySourceOptions {
  /** How often to look at CURRENT, ms (default 1000, at least 10). */
  readonly pollMs?: number;
  /** Called when a published version cannot be read (the last good snapshot stays in use). */
  readonly onError?: (error: Error) => void;
}

export interface SnapshotDirectorySource extends BatchSnapshotSource {
  readonly dir: string;
  /**
   * Reads the current snapshot (if any) and starts polling. Rejects if that
   * first read fails (e.g. CURRENT points at a malformed version); a missing
   * directory or pointer just means nothing was published yet.
   */
  start(): Promise<BatchSnapshot | null>;
  /** Looks at CURRENT now; resolves with the latest snapshot after that. */
  refresh(): Promise<BatchSnapshot | null>;
  /** The last read error, or null after a good read. */
  lastError(): Error | null;
  /** Stops polling. */
  close(): void;
}

export function snapshotDirectorySource(dir: string, options: SnapshotDirectorySourceOptions = {}): SnapshotDirectorySource {
  if (typeof dir !== 'string' || dir === '') throw new ConfigError('dir: must be the path of the snapshot directory', 'dir');
  const pollMs = options.pollMs ?? 1000;
  if (!Number.isFinite(pollMs) || pollMs < 10) throw new ConfigError(`pollMs: must be a number of milliseconds of at least 10, got ${pollMs}`, 'pollMs');

  const snapshots = new Subject<BatchSnapshot>();
  let latest: BatchSnapshot | null = null;
  let pointerRead: string | null = null;
  let error: Error | null = null;
  let reportedFor: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<BatchSnapshot | null> | null = null;
  let closed = false;
  let started = false;

  const check = async (throwErrors: boolean): Promise<BatchSnapshot | null> => {
    try {
      const pointer = await readSnapshotPointer(dir);
      if (pointer === null || pointer === pointerRead) return latest;
      const snapshot = await readCurrentSnapshot(dir);
      pointerRead = pointer;
      error = null;
      reportedFor = null;
      if (snapshot && !closed && (latest === null || snapshot.version !== latest.version || snapshot.createdAt !== latest.createdAt)) {
        latest = snapshot;
        snapshots.next(snapshot);
      }
      return latest;
    } catch (caught) {
      error = caught instanceof Error ? caught : new Error(String(caught));
      if (throwErrors) throw error;
      // Report once per pointer value, retry on every poll (the batch layer may fix it).
      const pointer = await readSnapshotPointer(dir).catch(() => null);
      if (reportedFor !== pointer) {
        reportedFor = pointer;
        options.onError?.(error);
      }
      return latest;
    }
  };

  const once = (throwErrors: boolean): Promise<BatchSnapshot | null> => {
    if (!running) running = check(throwErrors).finally(() => (running = null));
    return running;
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      void once(false).finally(schedule);
    }, pollMs);
    timer.unref();
  };

  return {
    dir,
    snapshots,
    latest: () => latest,
    lastError: () => error,
    async start() {
      if (started) return latest;
      const first = await once(true);
      started = true;
      schedule();
      return first;
    },
    async refresh() {
      // A poll already running may have read CURRENT before this call: look again after it.
      if (running) await running.catch(() => undefined);
      return once(false);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      snapshots.complete();
    },
  };
}
