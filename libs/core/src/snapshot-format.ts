/**
 * The on-disk format of published batch snapshots, shared so that a serving
 * layer in another process can read what the batch layer wrote.
 *
 *   <dir>/CURRENT                         the name of the served version dir;
 *                                         replaced by an atomic rename
 *   <dir>/v000000000042/snapshot.json     { format, version, createdAt, horizon, run, views: [{ name, rows, file }] }
 *   <dir>/v000000000042/<view>.ndjson     one encoded ViewRow per line
 *
 * A version directory is complete before CURRENT points at it and is never
 * modified afterwards, so a reader sees the old snapshot or the new one, never
 * a mix.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchRunInfo, BatchSnapshot } from './contracts.js';
import { FormatError } from './errors.js';
import { decodeHorizon, type Horizon } from './horizon.js';
import { sortRows, type ViewRow } from './view-rows.js';

export const SNAPSHOT_FORMAT = 'lambdaline.snapshot/1';
export const SNAPSHOT_POINTER_FILE = 'CURRENT';
export const SNAPSHOT_META_FILE = 'snapshot.json';

export interface SnapshotMeta {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  readonly createdAt: string;
  readonly horizon: Horizon;
  readonly run?: BatchRunInfo;
  readonly views: ReadonlyArray<{ readonly name: string; readonly rows: number; readonly file: string }>;
}

export function snapshotDirName(version: number): string {
  return `v${String(version).padStart(12, '0')}`;
}

export function encodeViewRowLine(row: ViewRow): string {
  return JSON.stringify({ w: row.windowStart, d: row.dims, p: row.parts });
}

export function decodeViewRowLine(line: string, where = 'row'): ViewRow {
  let value: { w?: unknown; d?: unknown; p?: unknown };
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new FormatError(`${where}: not JSON (${(error as Error).message})`);
  }
  if (typeof value.w !== 'number' || !Array.isArray(value.d) || typeof value.p !== 'object' || value.p === null) {
    throw new FormatError(`${where}: expected { w: number, d: [...], p: {...} }`);
  }
  return { windowStart: value.w, dims: value.d as ViewRow['dims'], parts: value.p as ViewRow['parts'] };
}

/** Which version CURRENT points at, or null when nothing was published yet. */
export async function readSnapshotPointer(dir: string): Promise<string | null> {
  try {
    return (await readFile(join(dir, SNAPSHOT_POINTER_FILE), 'utf8')).trim() || null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Reads one published version directory completely. */
export async function readSnapshotDir(versionDir: string): Promise<BatchSnapshot> {
  const metaPath = join(versionDir, SNAPSHOT_META_FILE);
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as SnapshotMeta;
  if (meta.format !== SNAPSHOT_FORMAT) throw new FormatError(`${metaPath}: format ${String(meta.format)} is not ${SNAPSHOT_FORMAT}`);
  const views: Record<string, ViewRow[]> = {};
  for (const view of meta.views) {
    const text = await readFile(join(versionDir, view.file), 'utf8');
    const rows = text.split('\n').filter((line) => line !== '').map((line, i) => decodeViewRowLine(line, `${view.file}:${i + 1}`));
    if (rows.length !== view.rows) throw new FormatError(`${view.file}: holds ${rows.length} rows, snapshot.json says ${view.rows}`);
    // The writer (DuckDB) orders strings by UTF-8 bytes, core by UTF-16 code units: they differ only
    // for rare mixes of characters, and sorting already-sorted rows is linear.
    views[view.name] = sortRows(rows);
  }
  const snapshot: BatchSnapshot = {
    version: meta.version,
    createdAt: meta.createdAt,
    horizon: decodeHorizon(meta.horizon, `${metaPath}: horizon`),
    views,
  };
  return meta.run ? { ...snapshot, run: meta.run } : snapshot;
}

/**
 * Reads the snapshot CURRENT points at, or null if none was published. If the
 * batch layer swaps CURRENT and cleans the old version while we read it, the
 * read is retried on the new pointer.
 */
export async function readCurrentSnapshot(dir: string, attempts = 3): Promise<BatchSnapshot | null> {
  for (let attempt = 1; ; attempt++) {
    const pointer = await readSnapshotPointer(dir);
    if (pointer === null) return null;
    try {
      return await readSnapshotDir(join(dir, pointer));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= attempts) throw error;
    }
  }
}
