import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultViews, sensorEventSchema } from '@lambdaline/core';
import { openMasterDataset } from '../src/index.js';
import { expectViewsEqualFold, sensorEvents, tempDirsPerTest, validEvents, writeNdjson } from './helpers.js';

const temp = tempDirsPerTest();

const good = (i: number, overrides: Record<string, unknown> = {}) => ({
  event_id: `g${i}`,
  ts: `2024-05-0${1 + (i % 3)}T10:00:00Z`,
  sensor_id: 'sensor_3',
  category: 'B',
  value1: 1.5 * i,
  value2: 7,
  status: 'OK',
  ...overrides,
});
const without = (key: string) => {
  const e: Record<string, unknown> = good(0);
  delete e[key];
  return e;
};

describe('bad input', () => {
  it('NDJSON: each kind of malformed record lands in quarantine with its code, field, reason, raw text and line', async () => {
    const tmp = temp();
    const lines: Array<[string, string | null, string | null]> = [
      [JSON.stringify(good(1)), null, null],
      ['{"event_id": "x", ', 'malformed_json', null],
      ['[1, 2, 3]', 'not_an_object', null],
      ['"just a string"', 'not_an_object', null],
      [JSON.stringify(without('sensor_id')), 'missing_field', 'sensor_id'],
      [JSON.stringify(good(2, { value1: 'abc' })), 'wrong_type', 'value1'],
      [JSON.stringify(good(3, { value2: 2.5 })), 'wrong_type', 'value2'],
      [JSON.stringify(good(4, { value2: 0 })), 'out_of_range', 'value2'],
      [JSON.stringify(good(5, { event_id: 'x'.repeat(200) })), 'out_of_range', 'event_id'],
      [JSON.stringify(good(6, { category: 'Z' })), 'not_allowed', 'category'],
      [JSON.stringify(good(7, { sensor_id: 'sensor_0' })), 'not_allowed', 'sensor_id'],
      [JSON.stringify(good(8, { ts: '2024-02-30T00:00:00Z' })), 'bad_timestamp', 'ts'],
      [JSON.stringify(good(9, { ts: '2024-05-01 10:00:00' })), 'bad_timestamp', 'ts'],
      ['', null, null], // blank lines are not records
      [JSON.stringify(good(10, { extra: 'ignored' })), null, null],
    ];
    const path = tmp.file('mixed.ndjson');
    writeFileSync(path, lines.map((l) => l[0]).join('\r\n'));
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const report = await ds.ingestFiles(path);
    const bad = lines.filter((l) => l[1] !== null);
    expect(report).toMatchObject({ records: lines.length - 1, accepted: 2, quarantined: bad.length, failed: 0 });
    const expectedByCode: Record<string, number> = {};
    for (const [, code] of bad) expectedByCode[code!] = (expectedByCode[code!] ?? 0) + 1;
    expect(report.byCode).toEqual(expectedByCode);
    const quarantine = ds.quarantine();
    expect(quarantine.count).toBe(bad.length);
    expect(quarantine.byCode).toEqual(expectedByCode);
    const letters = await quarantine.read();
    expect(letters.map((l) => [l.raw, l.code, l.field ?? null])).toEqual(bad);
    expect(letters.map((l) => l.origin)).toEqual(
      lines.map((l, i) => [l, i + 1] as const).filter(([l]) => l[1] !== null).map(([, row]) => ({ kind: 'file', path, row })),
    );
    for (const l of letters) expect(l.reason.length).toBeGreaterThan(5);
    expect(letters.find((l) => l.code === 'out_of_range' && l.field === 'value2')?.reason).toMatch(/value2 must be within 1..99, got 0/);
    expect((await quarantine.read({ code: 'wrong_type' })).length).toBe(2);
    const snapshot = await ds.runBatch();
    expectViewsEqualFold(sensorEventSchema, defaultViews, snapshot, validEvents(sensorEventSchema, lines.map((l) => l[0])));
    await ds.close();
  });

  it('CSV: wrong cell counts, unterminated quotes, wrong types and empty required cells are quarantined; quoted fields work', async () => {
    const tmp = temp();
    const header = 'event_id,ts,sensor_id,category,value1,value2,status';
    const rows: Array<[string, string | null]> = [
      ['c1,2024-05-01T00:00:00Z,sensor_1,A,1.5,3,OK', null],
      ['"c2, with ""quotes""\nand a newline",2024-05-01T00:01:00Z,sensor_1,A,-2e3,4,OK', null],
      ['c3,2024-05-01T00:02:00Z,sensor_1,A,1.5,3,OK,surplus', 'not_an_object'],
      ['c4,2024-05-01T00:03:00Z,sensor_1', 'not_an_object'],
      ['c5,2024-05-01T00:04:00Z,sensor_1,A,abc,3,OK', 'wrong_type'],
      ['c6,2024-05-01T00:05:00Z,sensor_1,A,1,,OK', 'missing_field'],
      ['c7,2024-05-01T00:06:00Z,sensor_1,A,1,3,MAYBE', 'not_allowed'],
      ['', null],
      ['"c8,2024-05-01T00:07:00Z,sensor_1,A,1,3,OK', 'not_an_object'], // unterminated: swallows the rest of the file
    ];
    const path = tmp.file('mixed.csv');
    writeFileSync(path, [header, ...rows.map((r) => r[0])].join('\n'));
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const report = await ds.ingestFiles(path);
    expect(report).toMatchObject({ accepted: 2, quarantined: 6, byCode: { not_an_object: 3, wrong_type: 1, missing_field: 1, not_allowed: 1 } });
    const letters = await ds.quarantine().read();
    expect(letters.map((l) => l.code)).toEqual(rows.filter((r) => r[1]).map((r) => r[1]));
    expect(letters[0]?.raw).toBe(rows[2]![0]);
    expect(letters[0]?.reason).toMatch(/8 cells but the header has 7/);
    expect(letters[0]?.origin).toEqual({ kind: 'file', path, row: 5 }); // line 5: the quoted newline took two lines
    expect(letters[5]?.reason).toMatch(/unterminated/);
    const snapshot = await ds.runBatch();
    const daily = snapshot.views.daily_by_category!;
    expect(daily).toHaveLength(1);
    expect(daily[0]?.parts.record_count).toEqual({ count: 2 });
    expect(daily[0]?.parts.avg_value1).toEqual({ sum: 1.5 - 2000, count: 2 });
    await ds.close();
  });

  it('Parquet: columns of the wrong type or with nulls are quarantined; an unreadable file is reported failed and nothing of it is committed', async () => {
    const tmp = temp();
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const parquet = tmp.file('typed.parquet');
    await connection.run(`COPY (
      SELECT * FROM (VALUES
        ('p1', TIMESTAMP '2024-05-01 01:00:00', 'sensor_2', 'C', 2.0, '5', 'OK'),
        ('p2', TIMESTAMP '2024-05-01 02:00:00', 'sensor_2', NULL, 3.0, '6', 'OK'),
        ('p3', TIMESTAMP '2024-05-01 03:00:00', 'sensor_2', 'C', 4.0, '7', 'OK'),
        ('p4', TIMESTAMP '2024-05-01 04:00:00', 'sensor_2', 'C', 'NaN'::DOUBLE, '8', 'OK')
      ) t(event_id, ts, sensor_id, category, value1, value2, status)
    ) TO '${parquet}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    const corrupt = tmp.file('corrupt.parquet');
    writeFileSync(corrupt, 'PAR1 this is not parquet at all');
    const fine = writeNdjson(tmp.file('fine.ndjson'), sensorEvents(9, 50));
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const report = await ds.ingestFiles([parquet, corrupt, fine]);
    expect(report.files.map((f) => f.status)).toEqual(['ingested', 'failed', 'ingested']);
    expect(report.files[0]).toMatchObject({ records: 4, accepted: 0, quarantined: 4, byCode: { wrong_type: 2, missing_field: 1, out_of_range: 1 } });
    expect(report.files[1]?.reason).toMatch(/cannot read .*corrupt\.parquet/);
    expect(report).toMatchObject({ accepted: 50, quarantined: 4, failed: 1 });
    const letters = await ds.quarantine().read();
    expect(letters[0]).toMatchObject({ code: 'wrong_type', field: 'value2', origin: { kind: 'file', path: parquet, row: 1 } });
    expect(JSON.parse(letters[0]!.raw!)).toMatchObject({ event_id: 'p1', ts: '2024-05-01T01:00:00.000Z', value2: '5' });
    // Non-finite doubles are reported as the validator reports them anywhere, not as broken JSON.
    expect(letters[3]).toMatchObject({ code: 'out_of_range', field: 'value1', reason: 'value1 must be finite, got NaN' });
    expect(ds.stats()).toMatchObject({ commits: 2, rows: 50 });
    await ds.close();
  });

  it('gzipped NDJSON, a forced format, and parameter errors that name the parameter', async () => {
    const tmp = temp();
    const rows = sensorEvents(4, 100);
    writeFileSync(tmp.file('events.ndjson.gz'), gzipSync(rows.map((r) => JSON.stringify(r)).join('\n')));
    writeFileSync(tmp.file('events.txt'), rows.slice(0, 10).map((r) => JSON.stringify(r)).join('\n'));
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    expect((await ds.ingestFiles(tmp.file('events.ndjson.gz'))).accepted).toBe(100);
    await expect(ds.ingestFiles([tmp.file('events.ndjson.gz'), tmp.file('nope.ndjson')])).rejects.toMatchObject({ name: 'ConfigError', field: 'paths[1]' });
    await expect(ds.ingestFiles(tmp.file('events.txt'))).rejects.toMatchObject({ name: 'ConfigError', field: 'paths' });
    await expect(ds.ingestFiles([])).rejects.toMatchObject({ field: 'paths' });
    await expect(ds.ingestFiles(tmp.file('events.txt'), { format: 'xml' as never })).rejects.toMatchObject({ field: 'options.format' });
    expect((await ds.ingestFiles(tmp.file('events.txt'), { format: 'ndjson' })).accepted).toBe(10);
    await ds.close();
  });
});
