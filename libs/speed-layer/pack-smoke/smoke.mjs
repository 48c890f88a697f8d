// Smoke test of the PUBLISHED @lambdaline/speed-layer, as ESM. tools/pack-check runs it with
// cwd = a fresh project outside the repo where only the packed tarballs are installed.
// Uses the package for real over the in-process log; exits 1 on any mismatch.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, makeHorizon, rowKey } from '@lambdaline/core';
import { InProcessLog, createSpeedLayer, inProcessSource, SpeedFeedEncoder, SpeedLayerError } from '@lambdaline/speed-layer';

const resolved = new URL(import.meta.resolve('@lambdaline/speed-layer')).pathname;
const expected = path.join(process.cwd(), 'node_modules', '@lambdaline', 'speed-layer') + path.sep;
assert.ok(resolved.startsWith(expected), `resolved to ${resolved}, expected under ${expected}`);
assert.ok(resolved.endsWith('.js'), `ESM entry should be dist/index.js, got ${resolved}`);

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
console.log('speed-layer ESM smoke: ok');
