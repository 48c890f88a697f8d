import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ViewSpecError, defaultViews, sensorEventSchema, type BatchSnapshotSource, type EventSchema } from '@lambdaline/core';
import { DatasetClosedError, DatasetLockedError, openMasterDataset } from '../src/index.js';
import { expectViewsEqualFold, sensorEvents, T0, tempDirsPerTest, validEvents, writeNdjson } from './helpers.js';

const temp = tempDirsPerTest();

describe('master dataset', () => {
  it('has one writer: a second open fails with a clear, retriable error; a dead writer’s lock is taken over', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const ds = await openMasterDataset({ dir, durable: false });
    const error = await openMasterDataset({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetLockedError);
    expect(error).toMatchObject({ field: 'dir', retriable: true, holder: { pid: process.pid } });
    expect((error as Error).message).toMatch(/already open for writing/);
    // Readers do not need the lock.
    const reader = await openMasterDataset({ dir, readOnly: true });
    await expect(reader.ingestFiles(writeNdjson(tmp.file('x.ndjson'), sensorEvents(1, 5)))).rejects.toBeInstanceOf(DatasetClosedError);
    await expect(reader.runBatch()).rejects.toMatchObject({ name: 'DatasetClosedError' });
    // It sees what the writer publishes when it refreshes.
    const seen: number[] = [];
    reader.snapshots.subscribe((s) => seen.push(s.version));
    expect(reader.latest()).toBeNull();
    await ds.ingestFiles(writeNdjson(tmp.file('y.ndjson'), sensorEvents(2, 5)));
    await ds.runBatch();
    expect((await reader.refresh())?.version).toBe(1);
    expect(seen).toEqual([1]);
    expect(reader.stats().rows).toBe(5);
    expect(reader.quarantine().count).toBe(0);
    await reader.close();
    await ds.close();
    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: Number(dead), hostname: hostname(), startedAt: new Date().toISOString() }));
    const again = await openMasterDataset({ dir });
    await again.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('keeps one schema; errors name the field at fault', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    await (await openMasterDataset({ dir, durable: false })).close();
    const changed: EventSchema = { ...sensorEventSchema, fields: { ...sensorEventSchema.fields, value2: { type: 'number' } } };
    await expect(openMasterDataset({ dir, schema: changed, views: defaultViews })).rejects.toMatchObject({ name: 'ConfigError', field: 'schema.fields.value2' });
    // Reopening without a schema uses the stored one.
    const reopened = await openMasterDataset({ dir });
    expect(reopened.schema).toEqual(sensorEventSchema);
    await reopened.close();
    const custom: EventSchema = { name: 'c', timeField: 't', fields: { t: { type: 'timestamp' }, v: { type: 'number' } } };
    await expect(openMasterDataset({ dir: tmp.file('other'), schema: custom })).rejects.toMatchObject({ name: 'ConfigError', field: 'views' });
    await expect(openMasterDataset({ dir: tmp.file('other'), schema: custom, views: [{ name: 'v', window: '7m', dimensions: [], measures: [{ name: 'n', op: 'count' }] }] })).rejects.toBeInstanceOf(ViewSpecError);
    await expect(openMasterDataset({ dir: tmp.file('other'), schema: custom, views: [{ name: 'v', window: '1h', dimensions: ['v'], measures: [{ name: 'n', op: 'count' }] }] })).rejects.toMatchObject({ field: 'views[0].dimensions[0]' });
    await expect(openMasterDataset({ dir: '' })).rejects.toMatchObject({ field: 'dir' });
    await expect(openMasterDataset({ dir: tmp.file('none'), readOnly: true })).rejects.toMatchObject({ field: 'dir' });
    await expect(openMasterDataset({ dir: tmp.file('x'), rows: 'sometimes' as never })).rejects.toBeInstanceOf(ConfigError);
  });

  it('skips a file whose content was already ingested, so re-running an ingest is a no-op', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    const path = writeNdjson(tmp.file('a.ndjson'), sensorEvents(1, 100));
    const first = await ds.ingestFiles(path);
    const second = await ds.ingestFiles(path);
    expect(second.files[0]).toMatchObject({ status: 'skipped', commit: first.files[0]!.commit });
    expect(second.accepted).toBe(0);
    const forced = await ds.ingestFiles(path, { skipDuplicateFiles: false });
    expect(forced.accepted).toBe(100);
    expect(ds.stats().rows).toBe(200);
    await ds.close();
  });

  it('a run uses the manifest as of its start: ingest during a run lands in the next run', async () => {
    const tmp = temp();
    const early = sensorEvents(1, 500, { days: 2 });
    const late = sensorEvents(2, 300, { days: 2 });
    const latePath = writeNdjson(tmp.file('late.ndjson'), late);
    let ingestedDuringRun = false;
    const ds = await openMasterDataset({
      dir: tmp.file('ds'),
      durable: false,
      faults: {
        afterViewWritten: async () => {
          if (!ingestedDuringRun) {
            ingestedDuringRun = true;
            await ds.ingestFiles(latePath);
          }
        },
      },
    });
    await ds.ingestFiles(writeNdjson(tmp.file('early.ndjson'), early));
    const first = await ds.runBatch();
    expect(ingestedDuringRun).toBe(true);
    expect(first.run?.recordCount).toBe(500);
    expectViewsEqualFold(sensorEventSchema, defaultViews, first, validEvents(sensorEventSchema, early));
    const second = await ds.runBatch();
    expect(second.run?.recordCount).toBe(800);
    expectViewsEqualFold(sensorEventSchema, defaultViews, second, validEvents(sensorEventSchema, [...early, ...late]));
    await ds.close();
  });

  it('checkpoints the manifest and reopens to the same state; removes what a crashed writer left', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const ds = await openMasterDataset({ dir, durable: false, checkpointEvery: 3 });
    for (let i = 0; i < 7; i++) {
      await ds.archive(
        sensorEvents(i, 20, { days: 1 }).map((e, j) => ({ topic: 't', partition: i % 2, offset: String(Math.floor(i / 2) * 20 + j), value: JSON.stringify(e) })),
      );
    }
    await ds.ingestFiles(writeNdjson(tmp.file('h.ndjson'), sensorEvents(99, 30, { days: 1 })));
    const horizon = ds.horizon();
    const stats = ds.stats();
    expect(stats.commits).toBe(8);
    await ds.close();
    expect(readdirSync(join(dir, 'manifest')).sort()).toEqual(['000000000007.json', '000000000008.json', 'checkpoint-000000000006.json']);
    // Leftovers of a crash: an uncommitted data file, a quarantine file, work in progress.
    mkdirSync(join(dir, 'data', 'day=2024-05-01'), { recursive: true });
    writeFileSync(join(dir, 'data', 'day=2024-05-01', 'orphan.parquet'), 'x');
    writeFileSync(join(dir, 'quarantine', 'orphan.ndjson'), 'x');
    mkdirSync(join(dir, 'tmp', 'chunk'), { recursive: true });
    const reopened = await openMasterDataset({ dir, durable: false });
    expect(reopened.horizon()).toEqual(horizon);
    expect(reopened.stats()).toEqual(stats);
    expect(existsSync(join(dir, 'data', 'day=2024-05-01', 'orphan.parquet'))).toBe(false);
    expect(existsSync(join(dir, 'quarantine', 'orphan.ndjson'))).toBe(false);
    expect(existsSync(join(dir, 'tmp', 'chunk'))).toBe(false);
    expect(reopened.horizon().partitions.map((p) => p.endOffset)).toEqual(['80', '60']);
    const snapshot = await reopened.runBatch();
    expect(snapshot.run?.recordCount).toBe(7 * 20 + 30);
    await reopened.close();
  });

  it('satisfies core’s BatchSnapshotSource and refuses work once closed', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), durable: false, rows: 'eager' });
    const source: BatchSnapshotSource = ds;
    expect(source.latest()).toBeNull();
    await ds.ingestFiles(writeNdjson(tmp.file('a.ndjson'), sensorEvents(3, 10, { start: T0 })));
    const snapshot = await ds.runBatch();
    expect(source.latest()).toBe(snapshot);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.keys(snapshot.views)).toEqual(['daily_by_category', 'sensor_5min']);
    expect(ds.files().every((f) => /data\/day=\d{4}-\d{2}-\d{2}\/[^/]+\.parquet$/.test(f))).toBe(true);
    await ds.close();
    await ds.close();
    await expect(ds.runBatch()).rejects.toBeInstanceOf(DatasetClosedError);
    await expect(ds.ingestFiles(tmp.file('a.ndjson'))).rejects.toBeInstanceOf(DatasetClosedError);
    expect(() => ds.createArchiver()).toThrow(DatasetClosedError);
  });
});
