/**
 * Sample history as a Parquet dataset partitioned by UTC day:
 * `<dir>/day=YYYY-MM-DD/part-<n>.parquet`, the layout of the batch layer's
 * master dataset. Rows are computed by DuckDB itself (`history-sql.ts`) and
 * written with `COPY ... TO`, one bounded file at a time, so memory stays flat
 * whether the run is 10 thousand or 50 million events.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, LambdalineError, assertParam } from '@lambdaline/core';
import { resolveRun, type EventPlan, type GenerateEventsOptions } from './generate-events.js';
import { historyRowsSql, type TimestampColumn } from './history-sql.js';
import { checkInt } from './options.js';

export type ParquetCompression = 'snappy' | 'zstd' | 'gzip' | 'uncompressed';

export interface WriteHistoryOptions extends GenerateEventsOptions {
  /** Root directory of the dataset; created if missing. */
  readonly dir: string;
  /** Most rows per Parquet file; a day with more is split into `part-0`, `part-1`, ... Default 1,000,000. */
  readonly rowsPerFile?: number;
  /**
   * How `ts` is stored. `'timestamptz'` (default): a Parquet timestamp
   * (UTC-adjusted, microseconds), DuckDB `TIMESTAMP WITH TIME ZONE`, the type of
   * the batch layer's master dataset; smaller and faster to write. A reader that
   * validates rows with core's `validateEvent` formats it to ISO text first (the
   * batch layer's ingest does). `'string'`: the canonical ISO-8601 text
   * (`2024-05-01T12:00:00.000Z`), exactly what `validateEvent` accepts as is.
   */
  readonly timestamp?: TimestampColumn;
  /** Parquet compression codec. Default `'snappy'` (DuckDB's default). */
  readonly compression?: ParquetCompression;
  /**
   * Replace the days this run writes: their existing `part-*.parquet` files are
   * deleted first. Without it, a run refuses to touch a day directory that
   * already holds parts (history is append-only: no silent mixing of runs).
   */
  readonly overwrite?: boolean;
  /** A DuckDB connection to use (left open). Default: a private in-memory instance, closed at the end. */
  readonly connection?: DuckDBConnection;
  /** DuckDB threads for the private instance (ignored with `connection`). Default: DuckDB's (all cores). */
  readonly threads?: number;
  /** Called with `done: 0` first, then after each file is in place. */
  readonly onProgress?: (progress: HistoryProgress) => void;
  /** Stops between files; files already renamed into place stay (each is complete). */
  readonly signal?: AbortSignal;
}

export interface HistoryFile {
  readonly day: string;
  readonly part: number;
  /** Absolute path. */
  readonly path: string;
  /** Index of the file's first event; the file holds `rows` consecutive indices. */
  readonly firstIndex: number;
  readonly rows: number;
}

export interface HistoryProgress {
  /** Events written so far. */
  readonly done: number;
  readonly total: number;
  /** The file just written (absent in the first call). */
  readonly file?: HistoryFile;
}

export interface HistoryResult {
  /** Absolute path of the dataset root. */
  readonly dir: string;
  readonly plan: EventPlan;
  readonly files: readonly HistoryFile[];
  readonly total: number;
  readonly durationMs: number;
}

export const DEFAULT_ROWS_PER_FILE = 1_000_000;
const COMPRESSIONS: readonly ParquetCompression[] = ['snappy', 'zstd', 'gzip', 'uncompressed'];
const TIMESTAMP_COLUMNS: readonly TimestampColumn[] = ['string', 'timestamptz'];
const PART_FILE = /^part-\d+\.parquet$/;

/** `<dir>/day=YYYY-MM-DD/part-<n>.parquet`, the path of one history file. */
export function historyFilePath(dir: string, day: string, part: number): string {
  return join(resolve(dir), `day=${day}`, `part-${part}.parquet`);
}

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Writes the events `generateEvents(options)` yields as Parquet files
 * partitioned by UTC day, and resolves with the files written.
 *
 * @throws ConfigError for bad options, or when a day directory already holds
 *   parts and `overwrite` is not set (nothing is written then).
 */
export async function writeHistory(options: WriteHistoryOptions): Promise<HistoryResult> {
  const started = performance.now();
  assertParam(typeof options?.dir === 'string' && options.dir !== '', 'dir', 'must be a directory path');
  const { model, plan } = resolveRun(options);
  const rowsPerFile = checkInt(options.rowsPerFile ?? DEFAULT_ROWS_PER_FILE, 'rowsPerFile', 1, 100_000_000);
  const tsColumn = options.timestamp ?? 'timestamptz';
  assertParam(TIMESTAMP_COLUMNS.includes(tsColumn), 'timestamp', `must be one of ${TIMESTAMP_COLUMNS.join(', ')}`);
  const compression = options.compression ?? 'snappy';
  assertParam(COMPRESSIONS.includes(compression), 'compression', `must be one of ${COMPRESSIONS.join(', ')}`);
  const threads = options.threads === undefined ? undefined : checkInt(options.threads, 'threads', 1, 1024);
  const dir = resolve(options.dir);

  const files: HistoryFile[] = [];
  for (const day of plan.days) {
    for (let part = 0, first = day.firstIndex; first < day.firstIndex + day.count; part++, first += rowsPerFile) {
      const rows = Math.min(rowsPerFile, day.firstIndex + day.count - first);
      files.push({ day: day.day, part, path: historyFilePath(dir, day.day, part), firstIndex: first, rows });
    }
  }
  await prepareDayDirs(dir, plan, options.overwrite === true);

  const report = options.onProgress ?? (() => {});
  report({ done: 0, total: plan.total });
  if (files.length === 0) return { dir, plan, files, total: 0, durationMs: performance.now() - started };

  const instance = options.connection ? undefined : await DuckDBInstance.create(':memory:', threads === undefined ? {} : { threads: String(threads) });
  const connection = options.connection ?? (await instance!.connect());
  try {
    const dayByName = new Map(plan.days.map((d) => [d.day, d]));
    let done = 0;
    for (const file of files) {
      options.signal?.throwIfAborted();
      const sql = historyRowsSql(model, dayByName.get(file.day)!, file.firstIndex, file.firstIndex + file.rows, tsColumn);
      // Written under a hidden temporary name, renamed when complete: a reader
      // globbing `*.parquet` never sees half a file, even after a crash.
      const tmp = join(dir, `day=${file.day}`, `.part-${file.part}.parquet.tmp`);
      try {
        await connection.run(`COPY (${sql}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION ${compression})`);
      } catch (error) {
        await rm(tmp, { force: true });
        throw new LambdalineError(`writing ${file.path} failed: ${(error as Error).message}`, { retriable: true, cause: error });
      }
      await rename(tmp, file.path);
      done += file.rows;
      report({ done, total: plan.total, file });
    }
  } finally {
    if (!options.connection) {
      connection.closeSync();
      instance!.closeSync();
    }
  }
  return { dir, plan, files, total: plan.total, durationMs: performance.now() - started };
}

/** Creates the day directories; checks (or, with overwrite, clears) existing parts first. */
async function prepareDayDirs(dir: string, plan: EventPlan, overwrite: boolean): Promise<void> {
  const existing = new Map<string, string[]>();
  for (const day of plan.days) {
    const dayDir = join(dir, `day=${day.day}`);
    const parts = await readdir(dayDir).then(
      (names) => names.filter((n) => PART_FILE.test(n)),
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      },
    );
    if (parts.length > 0) existing.set(dayDir, parts);
  }
  if (existing.size > 0 && !overwrite) {
    const [dayDir, parts] = existing.entries().next().value as [string, string[]];
    throw new ConfigError(
      `dir: ${dayDir} already holds ${parts.length} part file(s) (${existing.size} day(s) affected); pass overwrite: true to replace those days, or choose another dir`,
      'dir',
    );
  }
  const rootStat = await stat(dir).catch(() => undefined);
  assertParam(!rootStat || rootStat.isDirectory(), 'dir', `${dir} exists and is not a directory`);
  for (const [dayDir, parts] of existing) {
    await Promise.all(parts.map((name) => rm(join(dayDir, name), { force: true })));
  }
  for (const day of plan.days) await mkdir(join(dir, `day=${day.day}`), { recursive: true });
}
