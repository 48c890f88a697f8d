import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  diffViewRows,
  encodeViewRowLine,
  FormatError,
  SNAPSHOT_FORMAT,
  SNAPSHOT_META_FILE,
  SNAPSHOT_POINTER_FILE,
  snapshotDirName,
  type BatchSnapshot,
  type SnapshotMeta,
} from '@lambdaline/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServingLayer, inMemorySpeedSource, snapshotDirectorySource, type SnapshotDirectorySource } from '../src/index.js';
import { foldAll, Log, snapshotOf, specs, speedViewOf, T0, waitFor } from './helpers.js';

/** Publishes a snapshot the way the batch layer does: complete version dir, then an atomic CURRENT swap. */
async function publish(dir: string, snapshot: BatchSnapshot): Promise<void> {
  const name = snapshotDirName(snapshot.version);
  await mkdir(join(dir, name), { recursive: true });
  const views = Object.entries(snapshot.views).map(([view, rows]) => ({ name: view, rows: rows.length, file: `${view}.ndjson` }));
  for (const [view, rows] of Object.entries(snapshot.views)) {
    await writeFile(join(dir, name, `${view}.ndjson`), rows.map((r) => encodeViewRowLine(r) + '\n').join(''));
  }
  const meta: SnapshotMeta = { format: SNAPSHOT_FORMAT, version: snapshot.version, createdAt: snapshot.createdAt, horizon: snapshot.horizon, run: snapshot.run!, views };
  await writeFile(join(dir, name, SNAPSHOT_META_FILE), JSON.stringify(meta));
  await writeFile(join(dir, `${SNAPSHOT_POINTER_FILE}.tmp`), name);
  await rename(join(dir, `${SNAPSHOT_POINTER_FILE}.tmp`), join(dir, SNAPSHOT_POINTER_FILE));
}

describe('snapshotDirectorySource', () => {
  let dir: string;
  let source: SnapshotDirectorySource | null = null;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambdaline-serving-snapshots-'));
  });
  afterEach(async () => {
    source?.close();
    source = null;
    await rm(dir, { recursive: true, force: true });
  });

  const log = new Log();
  for (let i = 0; i < 60; i++) log.append(i % 2, T0 + i * 7 * 60_000, 1 + (i % 5), i * 1.5);

  it('starts empty when nothing was published, then follows CURRENT', async () => {
    source = snapshotDirectorySource(join(dir, 'not-yet'), { pollMs: 20 });
    expect(await source.start()).toBeNull();
    source.close();

    source = snapshotDirectorySource(dir, { pollMs: 20 });
    expect(await source.start()).toBeNull();
    const seen: number[] = [];
    source.snapshots.subscribe({ next: (s) => seen.push(s.version) });

    const s1 = snapshotOf(log, 1, new Map([[0, 10], [1, 12]]));
    await publish(dir, s1);
    await waitFor(() => source!.latest()?.version === 1, 'version 1');
    const read = source.latest()!;
    expect(read.horizon).toEqual(s1.horizon);
    expect(read.run).toEqual(s1.run);
    for (const spec of specs) expect(diffViewRows(spec, s1.views[spec.name]!, read.views[spec.name]!)).toEqual([]);

    await publish(dir, snapshotOf(log, 2, new Map([[0, 20], [1, 22]])));
    expect((await source.refresh())?.version).toBe(2);
    expect(seen).toEqual([1, 2]);
  });

  it('feeds a serving layer: batch from files + speed in process = all events', async () => {
    const ends = new Map([[0, 18], [1, 11]]);
    await publish(dir, snapshotOf(log, 7, ends));
    source = snapshotDirectorySource(dir, { pollMs: 20 });
    await source.start();
    const speed = inMemorySpeedSource([speedViewOf(log, 0, 18, log.end(0), 'a', 1), speedViewOf(log, 1, 11, log.end(1), 'b', 1)]);
    const serving = createServingLayer({ batch: source, speed, metrics: { defaultMetrics: false } });
    expect(serving.horizon().snapshotVersion).toBe(7);
    for (const spec of specs) expect(diffViewRows(spec, foldAll(spec, log.all()), serving.mergedRows(spec.name))).toEqual([]);

    // The next batch run is published; the speed layer rebuilds; the serving layer moves to the new pair.
    const next = new Map([[0, 25], [1, 27]]);
    await publish(dir, snapshotOf(log, 8, next));
    await waitFor(() => source!.latest()?.version === 8, 'version 8');
    expect(serving.horizon().snapshotVersion).toBe(7);
    speed.put(speedViewOf(log, 0, 25, log.end(0), 'a2', 1), speedViewOf(log, 1, 27, log.end(1), 'b2', 1));
    expect(serving.horizon().snapshotVersion).toBe(8);
    for (const spec of specs) expect(diffViewRows(spec, foldAll(spec, log.all()), serving.mergedRows(spec.name))).toEqual([]);
    serving.close();
  });

  it('rejects a malformed first snapshot, and keeps the last good one when a later one is malformed', async () => {
    await mkdir(join(dir, 'v000000000001'));
    await writeFile(join(dir, 'v000000000001', SNAPSHOT_META_FILE), JSON.stringify({ format: 'something/else', views: [] }));
    await writeFile(join(dir, SNAPSHOT_POINTER_FILE), 'v000000000001');
    source = snapshotDirectorySource(dir, { pollMs: 20 });
    await expect(source.start()).rejects.toThrowError(FormatError);
    source.close();

    await publish(dir, snapshotOf(log, 2, new Map([[0, 5]])));
    const errors: Error[] = [];
    source = snapshotDirectorySource(dir, { pollMs: 20, onError: (e) => errors.push(e) });
    expect((await source.start())?.version).toBe(2);
    await mkdir(join(dir, 'v000000000003'));
    await writeFile(join(dir, 'v000000000003', SNAPSHOT_META_FILE), '{ not json');
    await writeFile(join(dir, SNAPSHOT_POINTER_FILE), 'v000000000003');
    const serving = createServingLayer({ batch: source, metrics: { defaultMetrics: false } });
    await waitFor(() => errors.length > 0, 'an error report');
    expect(source.latest()?.version).toBe(2);
    expect(serving.status().batch).toMatchObject({ snapshotVersion: 2, lastError: expect.stringMatching(/JSON/) });
    serving.close();
    expect(source.lastError()).not.toBeNull();
    await publish(dir, snapshotOf(log, 4, new Map([[0, 9]])));
    await waitFor(() => source!.latest()?.version === 4, 'recovery to version 4');
    expect(source.lastError()).toBeNull();
    expect(errors).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => snapshotDirectorySource('')).toThrowError(ConfigError);
    expect(() => snapshotDirectorySource(dir, { pollMs: 1 })).toThrow(expect.objectContaining({ field: 'pollMs' }));
  });
});
