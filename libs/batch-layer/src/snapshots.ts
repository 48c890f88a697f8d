/**
 * Publishing batch views in core's snapshot format:
 *
 *   1. everything is written into snapshots/.tmp-<version>-<id>/ (view files by
 *      DuckDB, then snapshot.json and batch-state.json), and fsynced;
 *   2. that directory is renamed to v<version> (atomic);
 *   3. CURRENT is replaced by an atomic rename to point at it.
 *
 * A reader follows CURRENT, so it sees the old version or the new one, never a
 * part. A run that dies before step 3 leaves CURRENT on the old version; the
 * half-built directory is removed by the next open.
 */
import { readFileSync } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FormatError,
  SNAPSHOT_FORMAT,
  SNAPSHOT_META_FILE,
  SNAPSHOT_POINTER_FILE,
  decodeViewRows,
  readSnapshotMeta,
  readSnapshotPointer,
  snapshotDirName,
  type BatchRunInfo,
  type BatchSnapshot,
  type Horizon,
  type SnapshotMeta,
  type ViewRow,
} from '@lambdaline/core';
import { fsyncPath, listDir, writeFileAtomic } from './fsutil.js';
import { BATCH_STATE_FILE, BATCH_STATE_FORMAT } from './layout.js';

/** The batch layer's own facts about a published version, next to core's snapshot.json. */
export interface BatchState {
  readonly format: typeof BATCH_STATE_FORMAT;
  /** The views were computed over manifest commits 1..manifestSeq. */
  readonly manifestSeq: number;
  readonly recordCount: number;
  /** View name → fingerprint of what its rows depend on. */
  readonly views: Readonly<Record<string, string>>;
}

export interface PublishedVersion {
  readonly dir: string;
  readonly meta: SnapshotMeta;
  readonly state: BatchState | null;
}

const VERSION_DIR = /^v(\d{12})$/;

/** How the rows of a snapshot handed out in this process are loaded. */
export type RowLoading = 'eager' | 'lazy';

function readViewFile(dir: string, view: { name: string; rows: number; file: string }): ViewRow[] {
  // Synchronous: rows are loaded lazily, on first access to a snapshot's views.
  return decodeViewRows(readFileSync(join(dir, view.file), 'utf8'), view.file, view.rows);
}

/**
 * A `BatchSnapshot` whose `views` are read from the immutable version
 * directory on first access (or at once with `eager`). The object never
 * changes after creation: the rows are the files' rows.
 */
export class SnapshotHandle {
  readonly snapshot: BatchSnapshot;
  private readonly loaded = new Map<string, readonly ViewRow[]>();

  constructor(
    readonly version: PublishedVersion,
    loading: RowLoading,
  ) {
    const { meta, dir } = version;
    const views: Record<string, readonly ViewRow[]> = {};
    for (const view of meta.views) {
      Object.defineProperty(views, view.name, {
        enumerable: true,
        configurable: false,
        get: () => {
          let rows = this.loaded.get(view.name);
          if (!rows) {
            rows = Object.freeze(readViewFile(dir, view));
            this.loaded.set(view.name, rows);
          }
          return rows;
        },
      });
    }
    Object.freeze(views);
    const snapshot: BatchSnapshot = {
      version: meta.version,
      createdAt: meta.createdAt,
      horizon: meta.horizon,
      views,
      ...(meta.run ? { run: meta.run } : {}),
    };
    this.snapshot = Object.freeze(snapshot);
    if (loading === 'eager') this.materialize();
  }

  /** Reads every view now (before its directory may be cleaned up). */
  materialize(): void {
    for (const view of this.version.meta.views) void this.snapshot.views[view.name];
  }

  get materialized(): boolean {
    return this.loaded.size === this.version.meta.views.length;
  }
}

export async function readVersion(dir: string): Promise<PublishedVersion> {
  const meta = await readSnapshotMeta(dir);
  let state: BatchState | null = null;
  try {
    const parsed = JSON.parse(await readFile(join(dir, BATCH_STATE_FILE), 'utf8')) as BatchState;
    if (parsed.format === BATCH_STATE_FORMAT) state = parsed;
  } catch {
    state = null; // written by someone else, or damaged: the next run recomputes fully
  }
  return { dir, meta, state };
}

export async function readCurrentVersion(snapshotsDir: string): Promise<PublishedVersion | null> {
  const pointer = await readSnapshotPointer(snapshotsDir);
  if (pointer === null) return null;
  if (!VERSION_DIR.test(pointer)) throw new FormatError(`${join(snapshotsDir, SNAPSHOT_POINTER_FILE)}: "${pointer}" is not a version directory name`);
  return readVersion(join(snapshotsDir, pointer));
}

export function versionOf(name: string): number | null {
  const m = VERSION_DIR.exec(name);
  return m ? Number(m[1]) : null;
}

export interface PublishInput {
  readonly version: number;
  readonly stagingDir: string;
  readonly createdAt: string;
  readonly horizon: Horizon;
  readonly run: BatchRunInfo;
  readonly views: ReadonlyArray<{ readonly name: string; readonly rows: number; readonly file: string }>;
  readonly state: BatchState;
  readonly durable: boolean;
  /** Test hook: runs after the version directory is complete, before CURRENT moves. */
  readonly beforeSwitch?: () => Promise<void> | void;
}

/** Steps 1-3 above; returns the published version. */
export async function publishVersion(snapshotsDir: string, input: PublishInput): Promise<PublishedVersion> {
  const meta: SnapshotMeta = {
    format: SNAPSHOT_FORMAT,
    version: input.version,
    createdAt: input.createdAt,
    horizon: input.horizon,
    run: input.run,
    views: input.views,
  };
  await writeFileAtomic(join(input.stagingDir, BATCH_STATE_FILE), `${JSON.stringify(input.state)}\n`, input.durable);
  await writeFileAtomic(join(input.stagingDir, SNAPSHOT_META_FILE), `${JSON.stringify(meta, null, 1)}\n`, input.durable);
  if (input.durable) for (const view of input.views) await fsyncPath(join(input.stagingDir, view.file));
  const finalDir = join(snapshotsDir, snapshotDirName(input.version));
  await rm(finalDir, { recursive: true, force: true }); // a leftover of a run that died after this rename, before CURRENT
  await rename(input.stagingDir, finalDir);
  await fsyncPath(snapshotsDir, input.durable);
  await input.beforeSwitch?.();
  await writeFileAtomic(join(snapshotsDir, SNAPSHOT_POINTER_FILE), `${snapshotDirName(input.version)}\n`, input.durable);
  return { dir: finalDir, meta, state: input.state };
}

/**
 * Removes what no reader can be using: staging directories and versions above
 * CURRENT (left by a run that died before switching). Only call while holding
 * the writer lock and with no run in progress.
 */
export async function removeUnpublished(snapshotsDir: string, currentVersion: number): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listDir(snapshotsDir)) {
    const version = versionOf(name);
    if (name.startsWith('.tmp-') || name.endsWith('.tmp') || (version !== null && version > currentVersion)) {
      await rm(join(snapshotsDir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export interface CleanupOptions {
  /** Keep a superseded version at least this long after its successor was published (default 10 minutes). */
  readonly graceMs?: number;
  /** Always keep this many most recent versions, CURRENT included (default 2). */
  readonly keepLast?: number;
}

export interface CleanupReport {
  readonly removed: number[];
  readonly kept: number[];
}

/**
 * Deletes superseded versions whose grace period is over. A version is
 * superseded when the next one is published; readers that followed CURRENT
 * before that have `graceMs` to finish reading it (core's reader retries on
 * the new pointer if a version disappears under it).
 */
export async function cleanupVersions(
  snapshotsDir: string,
  currentVersion: number,
  options: CleanupOptions,
  beforeRemove: (version: number) => void,
  now = Date.now(),
): Promise<CleanupReport> {
  const graceMs = options.graceMs ?? 10 * 60_000;
  const keepLast = Math.max(1, options.keepLast ?? 2);
  const versions = (await listDir(snapshotsDir))
    .map(versionOf)
    .filter((v): v is number => v !== null && v <= currentVersion)
    .sort((a, b) => a - b);
  const removed: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < versions.length; i++) {
    const version = versions[i]!;
    const successor = versions[i + 1];
    const protectedByCount = versions.length - i <= keepLast;
    if (version === currentVersion || successor === undefined || protectedByCount) {
      kept.push(version);
      continue;
    }
    const supersededAt = await publishedAt(join(snapshotsDir, snapshotDirName(successor)));
    if (supersededAt === null || now - supersededAt < graceMs) {
      kept.push(version);
      continue;
    }
    beforeRemove(version);
    await rm(join(snapshotsDir, snapshotDirName(version)), { recursive: true, force: true });
    removed.push(version);
  }
  return { removed, kept };
}

async function publishedAt(versionDir: string): Promise<number | null> {
  try {
    const meta = JSON.parse(await readFile(join(versionDir, SNAPSHOT_META_FILE), 'utf8')) as SnapshotMeta;
    const t = Date.parse(meta.createdAt);
    if (Number.isFinite(t)) return t;
  } catch {
    // fall back to the directory's time
  }
  try {
    return (await stat(versionDir)).mtimeMs;
  } catch {
    return null;
  }
}
