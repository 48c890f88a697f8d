import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultViews, readCurrentSnapshot, sensorEventSchema, type EventSchema, type ViewSpec } from '@lambdaline/core';
import { compileViewSql, openMasterDataset, snapshotsDir } from '../src/index.js';
import { expectViewsEqualFold, rng, sensorEvents, T0, DAY, tempDirsPerTest, validEvents, writeCsv, writeNdjson } from './helpers.js';

const temp = tempDirsPerTest();

const FIELDS = ['event_id', 'ts', 'sensor_id', 'category', 'value1', 'value2', 'status'];

describe('default views over generated history', () => {
  it('equal a plain TypeScript fold over the same events, from NDJSON, CSV and Parquet', async () => {
    const tmp = temp();
    const ndjsonRows = sensorEvents(1, 4_000, { days: 4 });
    const csvRows = sensorEvents(2, 3_000, { days: 3, start: T0 + 2 * DAY });
    const parquetRows = sensorEvents(3, 3_000, { days: 5, start: T0 - DAY });
    writeNdjson(tmp.file('a.ndjson'), ndjsonRows);
    writeCsv(tmp.file('b.csv'), FIELDS, csvRows);
    writeNdjson(tmp.file('c-src.ndjson'), parquetRows);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // A typed Parquet file as another system would write it: TIMESTAMPTZ, DOUBLE, INTEGER columns.
    await connection.run(`COPY (SELECT event_id, ts::TIMESTAMPTZ AS ts, sensor_id, category, value1::DOUBLE AS value1, value2::INTEGER AS value2, status
      FROM read_json('${tmp.file('c-src.ndjson')}', format='newline_delimited', columns={event_id:'VARCHAR', ts:'VARCHAR', sensor_id:'VARCHAR', category:'VARCHAR', value1:'DOUBLE', value2:'INTEGER', status:'VARCHAR'}))
      TO '${tmp.file('c.parquet')}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();

    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const report = await ds.ingestFiles([tmp.file('a.ndjson'), tmp.file('b.csv'), tmp.file('c.parquet')]);
    expect(report.accepted).toBe(10_000);
    expect(report.quarantined).toBe(0);
    expect(report.files.map((f) => f.format)).toEqual(['ndjson', 'csv', 'parquet']);
    const snapshot = await ds.runBatch({ mode: 'full' });
    const all = validEvents(sensorEventSchema, [...ndjsonRows, ...csvRows, ...parquetRows]);
    expect(all).toHaveLength(10_000);
    expectViewsEqualFold(sensorEventSchema, defaultViews, snapshot, all);
    expect(snapshot.run?.recordCount).toBe(10_000);
    expect(snapshot.horizon.maxEventTime).toBe(Math.max(...all.map((e) => Date.parse(e.ts as string))));
    expect(snapshot.horizon.partitions).toEqual([]);
    // What another process reads with core's reader is the same snapshot.
    const onDisk = await readCurrentSnapshot(snapshotsDir(tmp.file('ds')));
    expect(onDisk?.version).toBe(snapshot.version);
    expectViewsEqualFold(sensorEventSchema, defaultViews, onDisk, all);
    await ds.close();
  });

  it('compiles a view to one statement that can be run by hand', () => {
    const sql = compileViewSql(sensorEventSchema, defaultViews[0]!, ['/data/a.parquet'], '/out/daily.ndjson');
    expect(sql).toContain('read_parquet');
    expect(sql).toContain(`floor(epoch_ms("ts") / 86400000) * 86400000`);
    expect(sql).toContain(`'record_count': {'count': count(*)}`);
    // value1 is required: never null, so its count is count(*) (computed once with record_count's).
    expect(sql).toContain(`'avg_value1': {'sum': coalesce(sum("value1"), 0)::DOUBLE, 'count': count(*)}`);
    expect(() => compileViewSql(sensorEventSchema, { ...defaultViews[0]!, window: '7m' }, ['/a.parquet'], '/o')).toThrow(/view.window/);
  });
});

/** A schema exercising every field type, optional fields, integer storage as BIGINT and DOUBLE, two time fields. */
const richSchema: EventSchema = {
  name: 'rich',
  timeField: 'ts',
  fields: {
    ts: { type: 'timestamp' },
    other_ts: { type: 'timestamp' },
    kind: { type: 'string', enum: ['x', 'y', 'z'] },
    region: { type: 'string', required: false },
    level: { type: 'integer', min: 0, max: 5 },
    big: { type: 'integer', required: false },
    flag: { type: 'boolean', required: false },
    amount: { type: 'number', required: false },
    score: { type: 'number' },
  },
};

function richEvents(seed: number, count: number): Record<string, unknown>[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const maybe = <T>(v: T) => (random() < 0.2 ? null : v);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const t = T0 + Math.floor(random() * 9 * DAY) - 2 * DAY;
    out.push({
      ts: new Date(t).toISOString(),
      other_ts: new Date(t + Math.floor(random() * 3 * DAY) - DAY).toISOString(),
      kind: pick(['x', 'y', 'z']),
      region: maybe(pick(['north', 'south', 'éast', 'w"est', '😀'])),
      level: Math.floor(random() * 6),
      big: maybe(Math.floor(random() * 2e9) - 1e9),
      flag: maybe(random() < 0.5),
      amount: maybe(Math.round((random() * 1000 - 500) * 100) / 100),
      score: random() * 10,
    });
  }
  return out;
}

const windowArb = fc.constantFrom('1m', '5m', '15m', '1h', '6h', '1d', '2d', '7d');
const measureArb = fc.oneof(
  fc.record({ op: fc.constant('count' as const), field: fc.option(fc.constantFrom('kind', 'region', 'flag', 'amount', 'big'), { nil: undefined }) }),
  fc.record({ op: fc.constantFrom('sum' as const, 'min' as const, 'max' as const, 'avg' as const), field: fc.constantFrom('amount', 'score', 'level', 'big') }),
);
const specArb: fc.Arbitrary<ViewSpec> = fc
  .record({
    window: windowArb,
    // Every view windows on the schema's event time (core refuses another); other_ts stays a plain column.
    timeField: fc.constantFrom('ts', undefined),
    dimensions: fc.shuffledSubarray(['kind', 'region', 'level', 'big', 'flag'], { maxLength: 3 }),
    measures: fc.array(measureArb, { minLength: 1, maxLength: 5 }),
  })
  .map(({ window, timeField, dimensions, measures }) => ({
    name: 'random_view',
    window,
    ...(timeField === undefined ? {} : { timeField }),
    dimensions,
    measures: measures.map((m, i) => ({ name: `m${i}_${m.op}`, op: m.op, ...(m.field === undefined ? {} : { field: m.field }) })),
  }));

describe('a randomly generated view spec', () => {
  it('equals the plain fold over the same events (property)', async () => {
    const tmp = temp();
    const inputs = richEvents(7, 2_500);
    const path = writeNdjson(tmp.file('rich.ndjson'), inputs);
    const events = validEvents(richSchema, inputs);
    expect(events).toHaveLength(inputs.length);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(specArb, specArb, async (a, b) => {
        const views = [a, { ...b, name: 'second_view' }];
        const ds = await openMasterDataset({ dir: tmp.file(`ds-${runs++}`), schema: richSchema, views, durable: false });
        try {
          await ds.ingestFiles(path);
          const snapshot = await ds.runBatch({ mode: 'full' });
          expectViewsEqualFold(richSchema, views, snapshot, events);
        } finally {
          await ds.close();
        }
      }),
      { numRuns: 12, seed: 20240501 },
    );
  });
});
