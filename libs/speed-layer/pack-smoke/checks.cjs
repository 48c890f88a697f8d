// The checks of speed-layer's pack smoke, shared by smoke.mjs (ESM, `import`) and smoke.cjs (CJS,
// `require`): each program loads the installed packages its own way and hands them to `run`, so
// the two differ only in how they load them. tools/pack-check copies this folder into a fresh
// project outside the repo (cwd) and runs both there. This file never loads a @lambdaline
// package itself. Uses the package for real over the in-process log.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');

/**
 * Runs every check; exits 1 at the first failure.
 * @param {typeof import('@lambdaline/speed-layer')} speedLayer
 * @param {typeof import('@lambdaline/core')} core the core the program loaded alongside (same format)
 * @param {{ format: 'ESM' | 'CJS', resolved: string }} loaded the module format and the file
 *   `@lambdaline/speed-layer` resolved to (import.meta.resolve or require.resolve)
 */
async function run(speedLayer, core, { format, resolved }) {
  try {
    const expected = path.join(process.cwd(), 'node_modules', '@lambdaline', 'speed-layer') + path.sep;
    assert.ok(resolved.startsWith(expected), `resolved to ${resolved}, expected under ${expected}`);
    const entry = format === 'ESM' ? 'index.js' : 'index.cjs';
    assert.ok(resolved.endsWith(entry), `${format} entry should be dist/${entry}, got ${resolved}`);
    await horizonsDeadLettersAndFeed(speedLayer, core);
    await liveAppends(speedLayer, core);
  } catch (error) {
    console.error(`speed-layer ${format} smoke FAILED\n${error?.stack ?? error}`);
    process.exit(1);
  }
  console.log(`speed-layer ${format} smoke: ok`);
}

/** Two partitions, a horizon, a malformed message, a new horizon (new epoch), the feed encoder, typed errors. */
async function horizonsDeadLettersAndFeed(speedLayer, core) {
  const { ConfigError, makeHorizon, rowKey } = core;
  const { InProcessLog, createSpeedLayer, inProcessSource, SpeedFeedEncoder, SpeedLayerError } = speedLayer;
  const event = (i, sensor, value1, ts) =>
    JSON.stringify({ event_id: `e${i}`, ts, sensor_id: sensor, category: 'A', value1, value2: 5, status: 'OK' });

  const log = new InProcessLog({ events: 2 });
  log.append('events', event(0, 'sensor_1', 1, '2024-05-01T12:01:00Z'), { partition: 0 }); // below the horizon
  log.append('events', event(1, 'sensor_1', 2, '2024-05-01T12:02:00Z'), { partition: 0 });
  log.append('events', event(2, 'sensor_1', 4, '2024-05-01T12:03:00Z'), { partition: 0 });
  log.append('events', event(3, 'sensor_2', 8, '2024-05-01T12:04:00Z'), { partition: 1 });
  log.append('events', '{"not json', { partition: 1 });

  const layer = createSpeedLayer({
    source: inProcessSource(log, { topic: 'events' }),
    horizon: makeHorizon([{ topic: 'events', partition: 0, endOffset: '1', maxEventTime: Date.parse('2024-05-01T12:01:00Z') }]),
  });
  const letters = [];
  layer.deadLetters.subscribe((l) => letters.push(l));
  await layer.start();
  await layer.caughtUp(10_000);

  const p0 = layer.partition('events', 0);
  assert.equal(p0.baseOffset, '1');
  assert.equal(p0.nextOffset, '3');
  const rows = layer.view('sensor_5min');
  const s1 = rows.find((r) => r.dims[0] === 'sensor_1');
  assert.deepEqual(s1.parts.message_count, { count: 2 });
  assert.deepEqual(s1.parts.avg_value1, { sum: 6, count: 2 });
  assert.deepEqual(s1.parts.min_value1, { min: 2 });
  assert.equal(rows.length, 2);
  const daily = layer.finalView('daily_by_category');
  assert.deepEqual(daily, [{ window_start: '2024-05-01T00:00:00.000Z', category: 'A', avg_value1: 14 / 3, avg_value2: 5, record_count: 3 }]);
  assert.equal(letters.length, 1);
  assert.equal(letters[0].code, 'malformed_json');
  assert.deepEqual(layer.status().deadLetters, { malformed_json: 1 });

  // A new horizon rebuilds partition 0 with a new epoch.
  const epoch = p0.epoch;
  layer.setHorizon(makeHorizon([{ topic: 'events', partition: 0, endOffset: '2', maxEventTime: Date.parse('2024-05-01T12:02:00Z') }]));
  const rebuilt = layer.partition('events', 0);
  assert.notEqual(rebuilt.epoch, epoch);
  assert.equal(rebuilt.baseOffset, '2');
  assert.deepEqual(rebuilt.views.sensor_5min[0].parts.message_count, { count: 1 });

  const encoder = new SpeedFeedEncoder();
  encoder.seed(layer.partitions());
  const batches = encoder.take();
  assert.equal(batches.length, 2);
  assert.ok(batches[0].messages.at(-1).key.startsWith('mark|events|'));
  assert.equal(typeof rowKey, 'function');

  assert.throws(() => createSpeedLayer({ source: inProcessSource(log, { topic: 'events' }), retention: '1m', allowedLateness: '1h' }), ConfigError);
  assert.ok(new SpeedLayerError('broker', 'x', { retriable: true }).retriable);
  await layer.stop();
}

/** Events appended after start on one partition, caught up, the views and the change stream. */
async function liveAppends(speedLayer, core) {
  const { makeHorizon } = core;
  const { InProcessLog, createSpeedLayer, inProcessSource } = speedLayer;
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
}

module.exports = { run };
