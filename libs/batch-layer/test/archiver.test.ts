import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError, sensorEventSchema, type SourceRecord } from '@lambdaline/core';
import { InjectedFault, openMasterDataset, type MasterDataset } from '../src/index.js';
import { runChildUntilHangThenKill } from './child.js';
import { expectViewsEqualFold, T0, tempDirsPerTest, validEvents } from './helpers.js';
import { defaultViews } from '@lambdaline/core';

const temp = tempDirsPerTest();

function event(offset: number, topic = 't', overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_id: `${topic}-${offset}`,
    ts: new Date(T0 + offset * 60_000).toISOString(),
    sensor_id: `sensor_${1 + (offset % 5)}`,
    category: 'ABCD'[offset % 4],
    value1: offset / 10,
    value2: 1 + (offset % 99),
    status: 'OK',
    ...overrides,
  });
}

function records(topic: string, partition: number, from: number, to: number): SourceRecord[] {
  const out: SourceRecord[] = [];
  for (let o = from; o < to; o++) out.push({ topic, partition, offset: String(o), value: event(o, `${topic}${partition}`) });
  return out;
}

/** Offsets in the master dataset per topic-partition: total rows and distinct offsets. */
async function offsetsInDataset(ds: MasterDataset): Promise<Array<{ t: string; p: number; rows: number; distinct: number; lo: number; hi: number }>> {
  const files = ds.files();
  if (files.length === 0) return [];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT _topic AS t, _partition AS p, count(*)::INTEGER AS rows, count(DISTINCT _offset)::INTEGER AS distinct, min(_offset)::INTEGER AS lo, max(_offset)::INTEGER AS hi
       FROM read_parquet([${files.map((f) => `'${f}'`).join(',')}]) WHERE _topic IS NOT NULL GROUP BY ALL ORDER BY 1, 2`,
    );
    return reader.getRowObjectsJS() as never;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function* slowly<T>(items: readonly T[], gate: (i: number) => Promise<void>): AsyncGenerator<T> {
  for (const [i, item] of items.entries()) {
    await gate(i);
    yield item;
  }
}

describe('archiver', () => {
  it('is exactly-once over overlapping offset ranges, interleaved partitions and duplicates within a batch', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const r1 = await ds.archive([...records('t', 0, 0, 300), ...records('t', 1, 0, 100)], { chunkRecords: 128 });
    expect(r1).toMatchObject({ records: 400, accepted: 400, duplicates: 0 });
    // Overlaps on both partitions, plus a new topic, interleaved, with repeats inside the batch.
    const mixed: SourceRecord[] = [];
    const a = records('t', 0, 250, 500);
    const b = records('t', 1, 50, 150);
    const c = records('u', 0, 0, 60);
    for (let i = 0; i < 250; i++) {
      if (a[i]) mixed.push(a[i]!);
      if (b[i]) mixed.push(b[i]!);
      if (c[i]) mixed.push(c[i]!, c[i]!);
    }
    const r2 = await ds.archive(mixed, { chunkRecords: 77 });
    expect(r2).toMatchObject({ records: 200 + 50 + 60, accepted: 310, duplicates: 50 + 50 + 60 });
    const r3 = await ds.archive(records('t', 0, 0, 500));
    expect(r3).toMatchObject({ records: 0, duplicates: 500, commits: 0 });
    expect(await offsetsInDataset(ds)).toEqual([
      { t: 't', p: 0, rows: 500, distinct: 500, lo: 0, hi: 499 },
      { t: 't', p: 1, rows: 150, distinct: 150, lo: 0, hi: 149 },
      { t: 'u', p: 0, rows: 60, distinct: 60, lo: 0, hi: 59 },
    ]);
    expect(ds.horizon().partitions.map((p) => [p.topic, p.partition, p.endOffset])).toEqual([
      ['t', 0, '500'],
      ['t', 1, '150'],
      ['u', 0, '60'],
    ]);
    await ds.close();
  });

  it('survives a crash between writing files and committing the manifest (injected fault)', async () => {
    const tmp = temp();
    let failNext = false;
    const ds = await openMasterDataset({
      dir: tmp.file('ds'),
      durable: false,
      faults: {
        beforeCommit: () => {
          if (failNext) throw new InjectedFault('beforeCommit');
        },
      },
    });
    await ds.archive(records('t', 0, 0, 200));
    failNext = true;
    await expect(ds.archive(records('t', 0, 150, 400))).rejects.toBeInstanceOf(InjectedFault);
    failNext = false;
    expect(ds.horizon().partitions[0]?.endOffset).toBe('200');
    // The uncommitted files were removed; the retry archives each offset once.
    const retry = await ds.archive(records('t', 0, 0, 400));
    expect(retry).toMatchObject({ records: 200, duplicates: 200 });
    expect(await offsetsInDataset(ds)).toEqual([{ t: 't', p: 0, rows: 400, distinct: 400, lo: 0, hi: 399 }]);
    await ds.close();
  });

  it('survives a writer process killed (SIGKILL) between writing files and committing the manifest', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const first = await openMasterDataset({ dir });
    await first.archive(records('k', 0, 0, 1000).map((r) => ({ ...r, value: event(Number(r.offset), 'k0') })));
    await first.close();
    // The child re-feeds 900..2000 in chunks of 500 new records and is killed before its 2nd commit.
    const killed = await runChildUntilHangThenKill({ dir, action: 'archive', topic: 'k', partition: 0, from: 900, to: 2000, chunkRecords: 500, hangAt: 'beforeCommit', hangOn: 2 });
    expect(killed).toEqual({ point: 'beforeCommit', signal: 'SIGKILL' });
    const onDisk = readdirSync(join(dir, 'data')).flatMap((d) => readdirSync(join(dir, 'data', d)));
    const reopened = await openMasterDataset({ dir }); // takes over the dead writer's lock, removes the orphans
    expect(reopened.files().length).toBeLessThan(onDisk.length);
    expect(reopened.horizon().partitions).toEqual([{ topic: 'k', partition: 0, endOffset: '1500', maxEventTime: T0 + 1499 * 60_000 }]);
    const retry = await reopened.archive(records('k', 0, 0, 2500).map((r) => ({ ...r, value: event(Number(r.offset), 'k0') })));
    expect(retry).toMatchObject({ records: 1000, duplicates: 1500 });
    expect(await offsetsInDataset(reopened)).toEqual([{ t: 'k', p: 0, rows: 2500, distinct: 2500, lo: 0, hi: 2499 }]);
    await reopened.close();
  });

  it('advances the horizon past invalid records; maxEventTime counts only valid ones', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const input: SourceRecord[] = [
      { topic: 'e', partition: 0, offset: '10', value: event(10) },
      { topic: 'e', partition: 0, offset: '11', value: event(500) }, // the latest valid event time of e:0
      { topic: 'e', partition: 0, offset: '12', value: event(9000, 't', { status: 'BROKEN' }) }, // later, but invalid
      { topic: 'e', partition: 0, offset: '13', value: null },
      { topic: 'e', partition: 1, offset: '0', value: '{"half": ' }, // a partition with only invalid records
      { topic: 'e', partition: 1, offset: '1', value: event(1, 't', { value2: 1000 }) },
    ];
    const report = await ds.archive(input);
    expect(report).toMatchObject({ records: 6, accepted: 2, quarantined: 4, byCode: { not_allowed: 1, malformed_json: 2, out_of_range: 1 } });
    const expected = {
      partitions: [
        { topic: 'e', partition: 0, endOffset: '14', maxEventTime: T0 + 500 * 60_000 },
        { topic: 'e', partition: 1, endOffset: '2', maxEventTime: null },
      ],
      maxEventTime: T0 + 500 * 60_000,
    };
    expect(ds.horizon()).toEqual(expected);
    const snapshot = await ds.runBatch();
    expect(snapshot.horizon).toEqual(expected);
    // Archived after the run: in the dataset's horizon, not in the published snapshot.
    await ds.archive([{ topic: 'e', partition: 0, offset: '14', value: event(14) }]);
    expect(ds.horizon().partitions[0]?.endOffset).toBe('15');
    expect(ds.latest()?.horizon).toEqual(expected);
    const letters = await ds.quarantine().read({ origin: 'kafka' });
    expect(letters.map((l) => [l.origin, l.code, l.field ?? null])).toEqual([
      [{ kind: 'kafka', topic: 'e', partition: 0, offset: '12' }, 'not_allowed', 'status'],
      [{ kind: 'kafka', topic: 'e', partition: 0, offset: '13' }, 'malformed_json', null],
      [{ kind: 'kafka', topic: 'e', partition: 1, offset: '0' }, 'malformed_json', null],
      [{ kind: 'kafka', topic: 'e', partition: 1, offset: '1' }, 'out_of_range', 'value2'],
    ]);
    expect(letters[3]?.raw).toBe(input[5]!.value);
    await ds.close();
  });

  it('commits by age while the source is idle, and lets a push-style feeder flush before committing offsets', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    let committed: () => void = () => undefined;
    const commits: number[] = [];
    // The source waits for a commit before yielding record 5: only an age-based commit can unblock it.
    const source = slowly(records('s', 0, 0, 10), (i) => (i === 5 ? new Promise<void>((resolve) => (committed = resolve)) : Promise.resolve()));
    const report = await ds.archive(source, {
      chunkMs: 20,
      onCommit: (info) => {
        commits.push(info.records);
        committed();
      },
    });
    expect(commits).toEqual([5, 5]);
    expect(report).toMatchObject({ records: 10, commits: 2 });

    const archiver = ds.createArchiver({ chunkMs: 60_000 });
    await archiver.write(records('s', 1, 0, 3));
    expect(ds.horizon().partitions.find((p) => p.partition === 1)).toBeUndefined();
    const info = await archiver.flush();
    expect(info?.ranges).toEqual([{ topic: 's', partition: 1, from: '0', to: '3', records: 3, valid: 3, maxEventTime: T0 + 2 * 60_000 }]);
    expect(info?.horizon.partitions.find((p) => p.partition === 1)?.endOffset).toBe('3');
    // A second archiver may not take a partition the first one holds.
    const other = ds.createArchiver();
    await expect(other.write(records('s', 1, 3, 4))).rejects.toMatchObject({ name: 'ConfigError', field: 'records' });
    await other.close();
    await archiver.close();
    await expect(archiver.write(records('s', 1, 3, 4))).rejects.toMatchObject({ name: 'DatasetClosedError' });
    await ds.close();
  });

  it('stops at once when aborted while the source is idle, committing what it has', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const controller = new AbortController();
    async function* idleAfterThree(): AsyncGenerator<SourceRecord> {
      yield* records('a', 0, 0, 3);
      controller.abort();
      await new Promise(() => undefined); // never yields again
    }
    const report = await ds.archive(idleAfterThree(), { signal: controller.signal, chunkMs: 60_000 });
    expect(report).toMatchObject({ records: 3, commits: 1 });
    expect(ds.horizon().partitions[0]?.endOffset).toBe('3');
    await ds.close();
  });

  it('rejects records that are not log records with an error naming the field', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    await expect(ds.archive([{ topic: 't', partition: 0, offset: '-1', value: '{}' }])).rejects.toMatchObject({ field: 'records[].offset', retriable: false });
    await expect(ds.archive([{ topic: '', partition: 0, offset: '1', value: '{}' }])).rejects.toBeInstanceOf(ConfigError);
    await expect(ds.archive([{ topic: 't', partition: 1.5, offset: '1', value: '{}' }])).rejects.toMatchObject({ field: 'records[].partition' });
    await expect(ds.archive(42 as never)).rejects.toMatchObject({ field: 'records' });
    await expect(ds.archive([], { chunkRecords: 0 })).rejects.toMatchObject({ field: 'chunkRecords' });
    await ds.close();
  });

  it('archived events show up in the views exactly once', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const input = records('v', 0, 0, 700);
    await ds.archive(input.slice(0, 400), { chunkRecords: 150 });
    await ds.archive(input.slice(300), { chunkRecords: 150 });
    const snapshot = await ds.runBatch();
    expectViewsEqualFold(sensorEventSchema, defaultViews, snapshot, validEvents(sensorEventSchema, input.map((r) => r.value as string)));
    await ds.close();
  });
});

describe('compaction', () => {
  it('merges small files per day without changing rows, offsets, horizon or views; incremental runs stay exact', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const ds = await openMasterDataset({ dir, durable: false });
    const input = records('c', 0, 0, 3_000); // 3000 minutes: about 2 days
    await ds.archive(input.slice(0, 2_000), { chunkRecords: 100 });
    const before = await ds.runBatch();
    const horizon = ds.horizon();
    const filesBefore = ds.files().length;
    expect(filesBefore).toBeGreaterThanOrEqual(20);
    const report = await ds.compact({ minFiles: 2 });
    expect(report).toMatchObject({ filesBefore, rows: 2_000 });
    expect(ds.files().length).toBe(report.filesAfter);
    expect(report.filesAfter).toBeLessThanOrEqual(3);
    expect(ds.horizon()).toEqual(horizon);
    expect(await offsetsInDataset(ds)).toEqual([{ t: 'c', p: 0, rows: 2_000, distinct: 2_000, lo: 0, hi: 1_999 }]);
    // Archiving after compaction is still exactly-once, and an incremental run still equals the fold.
    await ds.archive(input, { chunkRecords: 300 });
    const after = await ds.runBatch();
    expect(after.run?.mode).toBe('incremental');
    expect(before.version).toBe(after.version - 1);
    expectViewsEqualFold(sensorEventSchema, defaultViews, after, validEvents(sensorEventSchema, input.map((r) => r.value as string)));
    await ds.close();
    const reopened = await openMasterDataset({ dir });
    expect(await offsetsInDataset(reopened)).toEqual([{ t: 'c', p: 0, rows: 3_000, distinct: 3_000, lo: 0, hi: 2_999 }]);
    expect(readdirSync(join(dir, 'data')).flatMap((d) => readdirSync(join(dir, 'data', d))).length).toBe(reopened.files().length);
    const full = await reopened.runBatch({ mode: 'full' });
    expectViewsEqualFold(sensorEventSchema, defaultViews, full, validEvents(sensorEventSchema, input.map((r) => r.value as string)));
    await reopened.close();
  });
});
