// Smoke test of the PUBLISHED @lambdaline/batch-layer, as CommonJS (require). See smoke.mjs.
const assert = require('node:assert/strict');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { readCurrentSnapshot, LambdalineError } = require('@lambdaline/core');
const { openMasterDataset, snapshotsDir, compileViewSql } = require('@lambdaline/batch-layer');

async function main() {
  const resolved = require.resolve('@lambdaline/batch-layer');
  assert.ok(resolved.startsWith(path.join(process.cwd(), 'node_modules') + path.sep), `resolved ${resolved}, not the installed package`);
  assert.ok(resolved.endsWith('index.cjs'), `CJS entry should be dist/index.cjs, got ${resolved}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'batch-layer-smoke-cjs-'));
  let ds;
  try {
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
    console.log('@lambdaline/batch-layer CJS smoke: ok');
  } finally {
    await ds?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`@lambdaline/batch-layer CJS smoke FAILED\n${error?.stack ?? error}`);
  process.exit(1);
});
