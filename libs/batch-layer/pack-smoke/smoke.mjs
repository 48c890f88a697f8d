// Smoke test of the PUBLISHED @lambdaline/batch-layer, as ESM. tools/pack-check runs it with
// cwd = a fresh project outside the repo where only the packed tarballs are installed.
// It uses the package for real: a dataset in a temp dir, a small NDJSON file, a batch run,
// the snapshot read back in memory and with core's reader. Exits 1 on any mismatch.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultViews, diffViewRows, foldEvents, readCurrentSnapshot, sensorEventSchema, validateEvent, validateViewSpecs } from '@lambdaline/core';
import { DatasetLockedError, openMasterDataset, snapshotsDir } from '@lambdaline/batch-layer';

const resolved = new URL(import.meta.resolve('@lambdaline/batch-layer')).pathname;
assert.ok(resolved.startsWith(path.join(process.cwd(), 'node_modules') + path.sep), `resolved ${resolved}, not the installed package`);
assert.ok(resolved.endsWith('index.js'), `ESM entry should be dist/index.js, got ${resolved}`);

const dir = mkdtempSync(path.join(tmpdir(), 'batch-layer-smoke-esm-'));
let ds;
try {
  const events = [];
  for (let i = 0; i < 200; i++) {
    events.push({ event_id: `e${i}`, ts: new Date(Date.UTC(2024, 4, 1) + i * 97_000).toISOString(), sensor_id: `sensor_${1 + (i % 3)}`, category: 'ABCD'[i % 4], value1: i / 4, value2: 1 + (i % 99), status: 'OK' });
  }
  const file = path.join(dir, 'events.ndjson');
  writeFileSync(file, [...events.map((e) => JSON.stringify(e)), '{"broken": '].join('\n') + '\n');

  ds = await openMasterDataset({ dir: path.join(dir, 'dataset') });
  const report = await ds.ingestFiles(file);
  assert.equal(report.accepted, 200);
  assert.equal(report.quarantined, 1);
  assert.deepEqual(report.byCode, { malformed_json: 1 });
  await assert.rejects(openMasterDataset({ dir: path.join(dir, 'dataset') }), (error) => error instanceof DatasetLockedError && error.retriable === true);

  const snapshot = await ds.runBatch();
  assert.equal(snapshot.version, 1);
  assert.equal(snapshot.run.recordCount, 200);
  assert.equal(snapshot.horizon.maxEventTime, Date.parse(events[199].ts));
  const valid = events.map((e) => validateEvent(sensorEventSchema, e).event);
  for (const spec of validateViewSpecs(defaultViews, sensorEventSchema)) {
    assert.deepEqual(diffViewRows(spec, foldEvents(spec, valid), snapshot.views[spec.name]), [], `view ${spec.name}`);
  }
  const onDisk = await readCurrentSnapshot(snapshotsDir(path.join(dir, 'dataset')));
  assert.equal(onDisk.version, 1);
  assert.equal(onDisk.views.sensor_5min.length, snapshot.views.sensor_5min.length);
  const letters = await ds.quarantine().read();
  assert.equal(letters[0].origin.row, 201);

  const archived = await ds.archive([{ topic: 'events', partition: 0, offset: '0', value: JSON.stringify(events[0]) }]);
  assert.equal(archived.accepted, 1);
  const second = await ds.runBatch();
  assert.equal(second.horizon.partitions[0].endOffset, '1');
  console.log('@lambdaline/batch-layer ESM smoke: ok');
} catch (error) {
  console.error(`@lambdaline/batch-layer ESM smoke FAILED\n${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await ds?.close();
  rmSync(dir, { recursive: true, force: true });
}
