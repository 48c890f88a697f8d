/**
 * Throughput of the generators, measured side by side in one run:
 *
 *   - writeHistory: rows computed by DuckDB (the SQL twin), written as Parquet;
 *   - the same rows generated in JS and pushed through DuckDB's Appender, then
 *     COPY'd to Parquet: the obvious design, kept here as the baseline that
 *     justifies the SQL twin;
 *   - generateEvents and generateMessages alone (no I/O).
 *
 *   npx tsx libs/generators/bench/history-throughput.ts [--events 2000000] [--days 7] [--threads 2] [--baseline-events 1000000]
 *
 * Prints events/s per line and the ratio writeHistory / baseline. Not a test:
 * numbers depend on the machine; only ratios from the same run compare.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateEvents, generateMessages, writeHistory } from '../src/index.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    'baseline-events': { type: 'string' },
    days: { type: 'string', default: '7' },
    threads: { type: 'string' },
    compression: { type: 'string', default: 'snappy' },
  },
});
const events = Number(values.events);
const baselineEvents = Number(values['baseline-events'] ?? Math.min(events, 1_000_000));
const days = Number(values.days);
const threads = values.threads === undefined ? undefined : Number(values.threads);
const range = { seed: 1, from: '2024-01-01', days };

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');
const line = (label: string, n: number, ms: number) => {
  console.log(`${label.padEnd(44)} ${fmt(n).padStart(12)} events ${(ms / 1000).toFixed(2).padStart(8)} s ${fmt(rate(n, ms)).padStart(12)} events/s`);
  return rate(n, ms);
};

const root = await mkdtemp(join(tmpdir(), 'lambdaline-gen-bench-'));
try {
  console.log(`node ${process.version}, ${days} days, threads ${threads ?? 'default'}, compression ${values.compression}\n`);

  let t = performance.now();
  let n = 0;
  for (const _ of generateEvents({ ...range, count: baselineEvents })) n++;
  line('generateEvents (JS, no I/O)', n, performance.now() - t);

  t = performance.now();
  n = 0;
  for (const _ of generateMessages({ ...range, count: baselineEvents, malformedShare: 0.1 })) n++;
  line('generateMessages, 10% malformed (JS, no I/O)', n, performance.now() - t);

  // Baseline: JS generation through the Appender, then COPY per day.
  const instance = await DuckDBInstance.create(':memory:', threads === undefined ? {} : { threads: String(threads) });
  const db = await instance.connect();
  t = performance.now();
  await db.run(`CREATE TEMP TABLE staged (event_id VARCHAR, ts VARCHAR, sensor_id VARCHAR, category VARCHAR, value1 DOUBLE, value2 INTEGER, status VARCHAR)`);
  const appender = await db.createAppender('staged', 'main', 'temp');
  for (const e of generateEvents({ ...range, count: baselineEvents })) {
    appender.appendVarchar(e.event_id);
    appender.appendVarchar(e.ts);
    appender.appendVarchar(e.sensor_id);
    appender.appendVarchar(e.category);
    appender.appendDouble(e.value1);
    appender.appendInteger(e.value2);
    appender.appendVarchar(e.status);
    appender.endRow();
  }
  appender.closeSync();
  await db.run(
    `COPY (SELECT *, substr(ts, 1, 10) AS day FROM staged) TO '${join(root, 'baseline')}' (FORMAT parquet, PARTITION_BY (day), COMPRESSION ${values.compression})`,
  );
  const baseline = line('baseline: JS + Appender + COPY to Parquet', baselineEvents, performance.now() - t);
  db.closeSync();
  instance.closeSync();

  t = performance.now();
  const result = await writeHistory({
    ...range,
    count: events,
    dir: join(root, 'history'),
    compression: values.compression as 'snappy',
    ...(threads === undefined ? {} : { threads }),
  });
  const history = line('writeHistory (SQL twin in DuckDB)', result.total, performance.now() - t);
  console.log(`\nwriteHistory / baseline: ${(history / baseline).toFixed(2)}x  (${result.files.length} files)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
