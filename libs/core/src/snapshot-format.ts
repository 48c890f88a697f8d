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

/** Reads and checks a version directory's snapshot.json (format, horizon). */
export async function readSnapshotMeta(versionDir: string): Promise<SnapshotMeta> {
  const metaPath = join(versionDir, SNAPSHOT_META_FILE);
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as SnapshotMeta;
  if (meta.format !== SNAPSHOT_FORMAT) throw new FormatError(`${metaPath}: format ${String(meta.format)} is not ${SNAPSHOT_FORMAT}`);
  return { ...meta, horizon: decodeHorizon(meta.horizon, `${metaPath}: horizon`) };
}

/**
 * Decodes a view file's text (one row per line) and checks it holds the rows
 * snapshot.json announced. Rows come back in core's order: the writer (DuckDB)
 * orders strings by UTF-8 bytes, core by UTF-16 code units; they differ only for
 * rare mixes of characters, and sorting already-sorted rows is linear.
 */
export function decodeViewRows(text: string, file: string, expectedRows: number): ViewRow[] {
  const rows: ViewRow[] = [];
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    if (end > start) rows.push(decodeViewRowLine(text.slice(start, end), `${file}:${line}`));
    start = end + 1;
  }
  if (rows.length !== expectedRows) throw new FormatError(`${file}: holds ${rows.length} rows, snapshot.json says ${expectedRows}`);
  return sortRows(rows);
}

/** Reads one published version directory completely. */
export async function readSnapshotDir(versionDir: string): Promise<BatchSnapshot> {
  const meta = await readSnapshotMeta(versionDir);
  const views: Record<string, ViewRow[]> = {};
  for (const view of meta.views) {
    views[view.name] = decodeViewRows(await readFile(join(versionDir, view.file), 'utf8'), view.file, view.rows);
  }
  const snapshot: BatchSnapshot = { version: meta.version, createdAt: meta.createdAt, horizon: meta.horizon, views };
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
