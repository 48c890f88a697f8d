// Smoke test of the PUBLISHED @lambdaline/speed-layer, as CommonJS (see smoke.mjs).
const assert = require('node:assert/strict');
const path = require('node:path');
const { makeHorizon } = require('@lambdaline/core');
const { InProcessLog, createSpeedLayer, inProcessSource } = require('@lambdaline/speed-layer');

const resolved = require.resolve('@lambdaline/speed-layer');
const expected = path.join(process.cwd(), 'node_modules', '@lambdaline', 'speed-layer') + path.sep;
assert.ok(resolved.startsWith(expected), `resolved to ${resolved}, expected under ${expected}`);
assert.ok(resolved.endsWith('.cjs'), `CJS entry should be dist/index.cjs, got ${resolved}`);

(async () => {
  const log = new InProcessLog({ events: 1 });
  const layer = createSpeedLayer({ source: inProcessSource(log, { topic: 'events' }), horizon: makeHorizon([]) });
  const changes = [];
  layer.changes.subscribe((c) => changes.push(c));
  await layer.start();
  for (let i = 0; i < 100; i++) {
    const ts = new Date(Date.UTC(2024, 4, 1, 10, i)).toISOString();
    log.append('events', JSON.stringify({ event_id: `e${i}`, ts, sensor_id: `sensor_${1 + (i % 3)}`, category: 'B', value1: i, value2: 1 + (i % 9), status: 'WARNING' }));
  }
  await layer.caughtUp(10_000);
  const rows = layer.view('sensor_5min');
  assert.equal(rows.length, 20 * 3);
  const total = rows.reduce((n, r) => n + r.parts.message_count.count, 0);
  assert.equal(total, 100);
  const daily = layer.view('daily_by_category');
  assert.deepEqual(daily[0].parts.avg_value1, { sum: 4950, count: 100 });
  assert.ok(changes.length > 0);
  assert.equal(changes.at(-1).updated[0].nextOffset, '100');
  await layer.stop();
  console.log('speed-layer CJS smoke: ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
