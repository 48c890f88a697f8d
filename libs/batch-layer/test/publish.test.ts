import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultViews, readCurrentSnapshot, sensorEventSchema, type SourceRecord } from '@lambdaline/core';
import { openMasterDataset, snapshotsDir } from '../src/index.js';
import { runChildUntilHangThenKill } from './child.js';
import { expectSameViews, expectViewsEqualFold, sensorEvents, tempDirsPerTest, validEvents, writeNdjson } from './helpers.js';

const temp = tempDirsPerTest();

function kafkaRecords(seed: number, partition: number, from: number, count: number): SourceRecord[] {
  return sensorEvents(seed, count, { days: 4 }).map((e, i) => ({ topic: 'events', partition, offset: String(from + i), value: JSON.stringify(e) }));
}

describe('atomic publish', () => {
  it('a reader polling from another process during runs never sees a mix of snapshots', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const ds = await openMasterDataset({ dir, durable: false });
    const stopFile = tmp.file('stop');
    const reader = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/reader.mts', import.meta.url)), snapshotsDir(dir), stopFile], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    reader.stdout.on('data', (d) => (out += String(d)));
    const finished = new Promise<void>((resolve) => reader.on('exit', () => resolve()));
    await new Promise<void>((resolve) => reader.stdout.on('data', () => out.includes('READY') && resolve()));
    const next = [0, 0, 0];
    for (let round = 0; round < 8; round++) {
      const partition = round % 3;
      const count = 500 + round * 100;
      await ds.archive(kafkaRecords(round + 1, partition, next[partition]!, count));
      next[partition]! += count;
      await ds.runBatch({ mode: round % 4 === 3 ? 'full' : 'incremental' });
    }
    writeFileSync(stopFile, '');
    await finished;
    const summary = JSON.parse(out.slice(out.indexOf('RESULT ') + 7)) as { reads: number; inconsistent: string[]; versions: number[] };
    expect(summary.inconsistent).toEqual([]);
    expect(summary.versions.length).toBeGreaterThan(1); // it did read while versions were being published
    console.log(`reader: ${summary.reads} reads, versions ${summary.versions.join(',')}`);
    await ds.close();
  });

  it.each(['afterViewWritten', 'beforePublish'] as const)('a run killed mid-way (SIGKILL at %s) leaves the previous snapshot served and intact', async (hangAt) => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const first = sensorEvents(1, 2_000, { days: 3 });
    const second = sensorEvents(2, 500, { days: 5 });
    const ds = await openMasterDataset({ dir });
    await ds.ingestFiles(writeNdjson(tmp.file('a.ndjson'), first));
    const before = await ds.runBatch();
    await ds.ingestFiles(writeNdjson(tmp.file('b.ndjson'), second));
    await ds.close();

    const killed = await runChildUntilHangThenKill({ dir, action: 'run', hangAt, mode: 'incremental' });
    expect(killed).toEqual({ point: hangAt, signal: 'SIGKILL' });
    const leftovers = readdirSync(snapshotsDir(dir)).filter((n) => n !== 'CURRENT' && n !== 'v000000000001');
    expect(leftovers.length).toBe(1); // the half-built run: a staging dir, or v2 without CURRENT pointing at it
    const served = await readCurrentSnapshot(snapshotsDir(dir));
    expect(served?.version).toBe(before.version);
    expectSameViews(sensorEventSchema, defaultViews, before, served!);
    expectViewsEqualFold(sensorEventSchema, defaultViews, served, validEvents(sensorEventSchema, first));

    const reopened = await openMasterDataset({ dir });
    expect(reopened.latest()?.version).toBe(before.version);
    expect(readdirSync(snapshotsDir(dir)).sort()).toEqual(['CURRENT', 'v000000000001']);
    const after = await reopened.runBatch();
    expect(after.version).toBe(before.version + 1);
    expectViewsEqualFold(sensorEventSchema, defaultViews, after, validEvents(sensorEventSchema, [...first, ...second]));
    await reopened.close();
  });

  it('emits each new snapshot, satisfies BatchSnapshotSource, and cleans up superseded versions after the grace period', async () => {
    const tmp = temp();
    const dir = tmp.file('ds');
    const ds = await openMasterDataset({ dir, durable: false, retention: false });
    const seen: number[] = [];
    const subscription = ds.snapshots.subscribe({ next: (s) => seen.push(s.version) });
    expect(ds.latest()).toBeNull();
    const events = sensorEvents(3, 1_000, { days: 2 });
    await ds.ingestFiles(writeNdjson(tmp.file('a.ndjson'), events));
    const v1 = await ds.runBatch();
    await ds.runBatch({ force: true });
    await ds.runBatch({ force: true });
    expect(seen).toEqual([1, 2, 3]);
    expect(ds.latest()?.version).toBe(3);
    const versions = () => readdirSync(snapshotsDir(dir)).filter((n) => n.startsWith('v')).length;
    expect(versions()).toBe(3);
    expect(await ds.cleanupSnapshots({ graceMs: 3_600_000 })).toMatchObject({ removed: [] });
    // v1 was handed out but never read (rows are lazy): cleanup reads it before deleting its directory.
    expect(await ds.cleanupSnapshots({ graceMs: 0, keepLast: 1 })).toEqual({ removed: [1, 2], kept: [3] });
    expect(versions()).toBe(1);
    expect(existsSync(join(snapshotsDir(dir), 'v000000000001'))).toBe(false);
    expectViewsEqualFold(sensorEventSchema, defaultViews, v1, validEvents(sensorEventSchema, events));
    await expect(ds.cleanupSnapshots({ graceMs: -1 })).rejects.toMatchObject({ field: 'graceMs' });
    subscription.unsubscribe();
    let completed = false;
    ds.snapshots.subscribe({ complete: () => (completed = true) });
    await ds.close();
    expect(completed).toBe(true);
  });
});
