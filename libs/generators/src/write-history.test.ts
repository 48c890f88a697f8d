import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, parseTimestamp, sensorEventSchema, utcDay, validateEvent } from '@lambdaline/core';
import { generateEvents, writeHistory, type HistoryProgress } from './index.js';

let root: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lambdaline-gen-history-'));
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  db = await instance.connect();
});
afterAll(async () => {
  db?.closeSync();
  instance?.closeSync();
  if (root) await rm(root, { recursive: true, force: true });
});

const rowsOf = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS();
const quote = (path: string) => `'${path.replaceAll("'", "''")}'`;
/** Reads files without DuckDB's automatic `day` column from the `day=` directory. */
const readFiles = (paths: readonly string[]) => `read_parquet([${paths.map(quote).join(', ')}], hive_partitioning = false)`;

describe('writeHistory', () => {
  it('writes one Parquet dataset partitioned by UTC day, rows equal to generateEvents', async () => {
    const dir = join(root, 'basic');
    const options = { seed: 77, from: '2024-03-30T20:00:00Z', to: '2024-04-02T03:00:00Z', count: 25_000, sensors: 40, rowsPerFile: 4000 };
    // ISO text timestamps: rows compare directly with generateEvents' events.
    const progress: HistoryProgress[] = [];
    const result = await writeHistory({ ...options, dir, timestamp: 'string', threads: 1, onProgress: (p) => progress.push(p) });

    expect((await readdir(dir)).sort()).toEqual(['day=2024-03-30', 'day=2024-03-31', 'day=2024-04-01', 'day=2024-04-02']);
    expect(result.total).toBe(25_000);
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(25_000);
    // 31 h of range; 2024-03-31 and 2024-04-01 get 24/55 of it each: 10909 / 10909 events, so 3 files each.
    expect(result.files.filter((f) => f.day === '2024-03-31').map((f) => f.part)).toEqual([0, 1, 2]);

    const expected = [...generateEvents(options)];
    for (const file of result.files) {
      expect(file.path).toBe(join(dir, `day=${file.day}`, `part-${file.part}.parquet`));
      const rows = await rowsOf(`SELECT * FROM ${readFiles([file.path])}`);
      expect(rows).toHaveLength(file.rows);
      // Row by row, in order: the SQL generator and the JS one agree exactly (doubles included).
      expect(rows).toEqual(expected.slice(file.firstIndex, file.firstIndex + file.rows));
      // Each file holds only its day.
      for (const row of rows) expect(utcDay(parseTimestamp(row.ts as string) as number)).toBe(file.day);
    }

    // As the batch layer reads it: a hive-partitioned glob, every row valid per core.
    const all = await rowsOf(`SELECT * EXCLUDE (day), day::VARCHAR AS day FROM read_parquet(${quote(join(dir, '**', '*.parquet'))}, hive_partitioning = true)`);
    expect(all).toHaveLength(25_000);
    for (const row of all) {
      const { day, ...event } = row;
      const result = validateEvent(sensorEventSchema, event);
      if (!result.ok) throw new Error(`${JSON.stringify(row)}: ${result.rejection.reason}`);
      expect(utcDay(result.eventTime)).toBe(day);
    }
    expect(new Set(all.map((r) => r.event_id)).size).toBe(25_000);

    expect(progress[0]).toEqual({ done: 0, total: 25_000 });
    expect(progress.map((p) => p.done)).toEqual([0, ...result.files.map((_, i) => result.files.slice(0, i + 1).reduce((n, f) => n + f.rows, 0))]);
    expect(progress.at(-1)!.done).toBe(25_000);
  });

  it('uses the column types the schema implies (ts: TIMESTAMP WITH TIME ZONE by default)', async () => {
    const dir = join(root, 'types');
    const { files } = await writeHistory({ dir, count: 100, connection: db });
    const schema = await rowsOf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${readFiles([files[0]!.path])})`);
    expect(schema).toEqual([
      { column_name: 'event_id', column_type: 'VARCHAR' },
      { column_name: 'ts', column_type: 'TIMESTAMP WITH TIME ZONE' },
      { column_name: 'sensor_id', column_type: 'VARCHAR' },
      { column_name: 'category', column_type: 'VARCHAR' },
      { column_name: 'value1', column_type: 'DOUBLE' },
      { column_name: 'value2', column_type: 'INTEGER' },
      { column_name: 'status', column_type: 'VARCHAR' },
    ]);
  });

  it('stores ts as a UTC Parquet timestamp, whatever the session time zone', async () => {
    const dir = join(root, 'tstz');
    const own = await instance.connect();
    await own.run(`SET TimeZone = 'America/New_York'`);
    const { files } = await writeHistory({ dir, seed: 5, count: 3000, days: 2, compression: 'zstd', connection: own });
    own.closeSync();
    const expected = [...generateEvents({ seed: 5, count: 3000, days: 2 })];
    for (const file of files) {
      // Formatted back to ISO text the way a validating reader does (time-zone independent).
      const rows = await rowsOf(`SELECT * REPLACE (strftime(make_timestamp(epoch_us(ts)), '%Y-%m-%dT%H:%M:%S.%gZ') AS ts) FROM ${readFiles([file.path])}`);
      expect(rows).toEqual(expected.slice(file.firstIndex, file.firstIndex + file.rows));
    }
  });

  it('agrees with generateEvents for any seed, sensor count, start index and range', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.string({ maxLength: 12 })),
          sensors: fc.integer({ min: 1, max: 1_000_000 }),
          startIndex: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff - 500 })),
          from: fc.integer({ min: 0, max: Date.UTC(9000, 0, 1) }),
          spanMs: fc.integer({ min: 1, max: 5 * 86_400_000 }),
          count: fc.integer({ min: 0, max: 500 }),
        }),
        async ({ spanMs, ...o }) => {
          const options = { ...o, to: o.from + spanMs };
          const dir = await mkdtemp(join(root, 'prop-'));
          const { files } = await writeHistory({ ...options, dir, timestamp: 'string', connection: db });
          const rows = files.length === 0 ? [] : await rowsOf(`SELECT * FROM ${readFiles(files.map((f) => f.path))}`);
          expect(rows).toEqual([...generateEvents(options)]);
          await rm(dir, { recursive: true });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses to mix runs in a day unless overwrite, which replaces the days it writes', async () => {
    const dir = join(root, 'overwrite');
    await writeHistory({ dir, count: 3000, rowsPerFile: 1000, connection: db });
    await writeFile(join(dir, 'day=2024-01-01', 'notes.txt'), 'kept');
    const refused = await writeHistory({ dir, count: 10, seed: 2, connection: db }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).field).toBe('dir');

    await writeHistory({ dir, count: 10, seed: 2, overwrite: true, connection: db });
    expect((await readdir(join(dir, 'day=2024-01-01'))).sort()).toEqual(['notes.txt', 'part-0.parquet']);
    const rows = await rowsOf(`SELECT count(*)::INTEGER AS n, min(event_id) AS id FROM read_parquet(${quote(join(dir, '*', '*.parquet'))})`);
    expect(rows).toEqual([{ n: 10, id: 'evt-00000002-0' }]);
  });

  it('writes nothing for an empty run, and stops between files when aborted', async () => {
    const empty = await writeHistory({ dir: join(root, 'empty'), count: 0, connection: db });
    expect(empty.files).toEqual([]);

    const controller = new AbortController();
    const dir = join(root, 'aborted');
    const error = await writeHistory({
      dir,
      count: 5000,
      rowsPerFile: 1000,
      connection: db,
      signal: controller.signal,
      onProgress: (p) => p.done >= 2000 && controller.abort(),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    // Two complete files, no temporary leftovers.
    expect((await readdir(join(dir, 'day=2024-01-01'))).sort()).toEqual(['part-0.parquet', 'part-1.parquet']);
  });
});
