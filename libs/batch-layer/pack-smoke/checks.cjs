// The checks of batch-layer's pack smoke, shared by smoke.mjs (ESM, `import`) and smoke.cjs (CJS,
// `require`): each program loads the installed packages its own way and hands them to `run`, so
// the two differ only in how they load them. tools/pack-check copies this folder into a fresh
// project outside the repo (cwd) and runs both there. This file never loads a @lambdaline
// package itself.
//
// It uses the package for real: datasets in temp dirs fed from a small NDJSON and a small CSV
// file, batch runs, the snapshot read back in memory and with core's reader, an archive.
'use strict';
const assert = require('node:assert/strict');
const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

/**
 * Runs every check; exits 1 at the first failure.
 * @param {typeof import('@lambdaline/batch-layer')} batchLayer
 * @param {typeof import('@lambdaline/core')} core the core the program loaded alongside (same format)
 * @param {{ format: 'ESM' | 'CJS', resolved: string }} loaded the module format and the file
 *   `@lambdaline/batch-layer` resolved to (import.meta.resolve or require.resolve)
 */
async function run(batchLayer, core, { format, resolved }) {
  const label = `@lambdaline/batch-layer ${format} smoke`;
  const dir = mkdtempSync(path.join(tmpdir(), `batch-layer-smoke-${format.toLowerCase()}-`));
  try {
    assert.ok(resolved.startsWith(path.join(process.cwd(), 'node_modules') + path.sep), `resolved ${resolved}, not the installed package`);
    const entry = format === 'ESM' ? 'index.js' : 'index.cjs';
    assert.ok(resolved.endsWith(entry), `${format} entry should be dist/${entry}, got ${resolved}`);
    await ndjsonAndArchive(batchLayer, core, path.join(dir, 'ndjson'));
    await csvFullRun(batchLayer, core, path.join(dir, 'csv'));
    console.log(`${label}: ok`);
  } catch (error) {
    console.error(`${label} FAILED\n${error?.stack ?? error}`);
    process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** NDJSON with a broken line, the writer lock, a batch equal to core's fold, the quarantine, an archive. */
async function ndjsonAndArchive(batchLayer, core, dir) {
  const { defaultViews, diffViewRows, foldEvents, readCurrentSnapshot, sensorEventSchema, validateEvent, validateViewSpecs } = core;
  const { DatasetLockedError, openMasterDataset, snapshotsDir } = batchLayer;
  let ds;
  try {
    const events = [];
    for (let i = 0; i < 200; i++) {
      events.push({ event_id: `e${i}`, ts: new Date(Date.UTC(2024, 4, 1) + i * 97_000).toISOString(), sensor_id: `sensor_${1 + (i % 3)}`, category: 'ABCD'[i % 4], value1: i / 4, value2: 1 + (i % 99), status: 'OK' });
    }
    mkdirSync(dir, { recursive: true });
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
  } finally {
    await ds?.close();
  }
}

/** CSV with a bad row, a full run, the views by day and category, core's reader, the SQL, a typed error. */
async function csvFullRun(batchLayer, core, dir) {
  const { LambdalineError, readCurrentSnapshot } = core;
  const { compileViewSql, openMasterDataset, snapshotsDir } = batchLayer;
  let ds;
  try {
    mkdirSync(dir, { recursive: true });
    const header = 'event_id,ts,sensor_id,category,value1,value2,status';
    const rows = [];
    for (let i = 0; i < 50; i++) rows.push(`c${i},2024-05-0${1 + (i % 2)}T0${i % 10}:00:00Z,sensor_${1 + (i % 2)},${'AB'[i % 2]},${i},${1 + i},OK`);
    rows.push('bad,row');
    const file = path.join(dir, 'events.csv');
    writeFileSync(file, [header, ...rows].join('\n'));
    ds = await openMasterDataset({ dir: path.join(dir, 'dataset') });
    const report = await ds.ingestFiles(file);
    assert.equal(report.accepted, 50);
    assert.equal(report.quarantined, 1);
    const snapshot = await ds.runBatch({ mode: 'full' });
    const daily = snapshot.views.daily_by_category;
    assert.equal(daily.length, 2); // two days, one category each
    assert.equal(daily.reduce((n, r) => n + r.parts.record_count.count, 0), 50);
    assert.deepEqual(daily[0].dims, ['A']);
    const onDisk = await readCurrentSnapshot(snapshotsDir(path.join(dir, 'dataset')));
    assert.equal(onDisk.views.daily_by_category.length, 2);
    assert.match(compileViewSql(ds.schema, ds.views[0], ['/x.parquet'], '/out.ndjson'), /COPY/);
    await assert.rejects(ds.ingestFiles(path.join(dir, 'missing.csv')), (error) => error instanceof LambdalineError && error.field === 'paths');
  } finally {
    await ds?.close();
  }
}

module.exports = { run };
