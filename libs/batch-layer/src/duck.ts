/**
 * The DuckDB engine behind a dataset: one in-memory instance (the data lives in
 * Parquet files, not in a database file), one short-lived connection per
 * operation so ingest and a batch run can proceed side by side.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { StorageError } from './errors.js';

export interface DuckDbOptions {
  /** Worker threads DuckDB may use (default: all cores). */
  readonly threads?: number;
  /** e.g. `'4GB'` (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string;
  /** Where DuckDB spills when an aggregation does not fit in memory (default: `<dir>/tmp/duckdb`). */
  readonly tempDirectory?: string;
}

export class Duck {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(options: DuckDbOptions, defaultTempDirectory: string): Promise<Duck> {
    const config: Record<string, string> = { temp_directory: options.tempDirectory ?? defaultTempDirectory };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(':memory:', config);
    } catch (error) {
      throw new StorageError(`could not start DuckDB: ${(error as Error).message}`, { cause: error, retriable: false });
    }
    return new Duck(instance);
  }

  /** Runs `fn` with a fresh connection set to UTC, closing it afterwards. */
  async use<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  }

  /** A connection set to UTC that the caller must close (`closeSync`), for results streamed across awaits. */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    try {
      await connection.run(`SET TimeZone = 'UTC'`);
    } catch {
      // Without ICU there is no TimeZone setting; every timestamp here is UTC epoch-based anyway.
    }
    return connection;
  }

  close(): void {
    this.instance.closeSync();
  }
}

export interface QueryProgress {
  /** 0..100, or null when DuckDB cannot estimate it. */
  readonly percent: number | null;
}

/**
 * Runs one statement and returns its rows as JS objects, reporting DuckDB's own
 * progress estimate every `intervalMs` while it runs. Failures become a
 * `StorageError` saying what was being done.
 */
export async function query(
  connection: DuckDBConnection,
  sql: string,
  what: string,
  onProgress?: (progress: QueryProgress) => void,
  intervalMs = 500,
): Promise<Record<string, unknown>[]> {
  let timer: NodeJS.Timeout | undefined;
  if (onProgress) {
    timer = setInterval(() => {
      try {
        const p = connection.progress;
        onProgress({ percent: p.percentage >= 0 ? p.percentage : null });
      } catch {
        // progress is best effort
      }
    }, intervalMs);
    timer.unref();
  }
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } catch (error) {
    throw new StorageError(`DuckDB failed while ${what}: ${(error as Error).message}`, { cause: error });
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** A JS number from what DuckDB returns for an integer column (bigint) or a double. */
export function num(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return Number.NaN;
  return Number(value);
}
