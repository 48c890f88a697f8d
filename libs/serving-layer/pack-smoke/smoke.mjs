// Runs against the packed @lambdaline/serving-layer installed in a fresh project (tools/pack-check).
import { foldEvents, validateViewSpecs, defaultViews, sensorEventSchema } from '@lambdaline/core';
import { createServingLayer, inMemoryBatchSource, inMemorySpeedSource, startServingServer } from '@lambdaline/serving-layer';

const fail = (why) => {
  console.error(`smoke.mjs: ${why}`);
  process.exit(1);
};

const [daily, fiveMin] = validateViewSpecs(defaultViews, sensorEventSchema);
const event = (i, ts, value1) => ({ event_id: `e${i}`, ts, sensor_id: 'sensor_1', category: 'A', value1, value2: 10, status: 'OK' });
const old = [event(1, '2024-05-01T10:01:00Z', 10), event(2, '2024-05-01T10:02:00Z', 20)];
const recent = [event(3, '2024-05-01T10:03:00Z', 60)];

const batch = inMemoryBatchSource({
  version: 1,
  createdAt: '2024-05-01T10:02:30Z',
  horizon: { partitions: [{ topic: 'events', partition: 0, endOffset: '2', maxEventTime: Date.parse('2024-05-01T10:02:00Z') }], maxEventTime: Date.parse('2024-05-01T10:02:00Z') },
  views: { daily_by_category: foldEvents(daily, old), sensor_5min: foldEvents(fiveMin, old) },
});
const speed = inMemorySpeedSource([
  {
    topic: 'events', partition: 0, epoch: 'smoke', seq: 1, baseOffset: '2', nextOffset: '3',
    maxEventTime: Date.parse('2024-05-01T10:03:00Z'), watermark: null, updatedAt: Date.now(),
    views: { daily_by_category: foldEvents(daily, recent), sensor_5min: foldEvents(fiveMin, recent) },
  },
]);
const serving = createServingLayer({ batch, speed });
const answer = serving.query('sensor_5min', { from: '2024-05-01T10:00:00Z' });
if (answer.rows.length !== 1 || answer.rows[0].avg_value1 !== 30 || answer.rows[0].message_count !== 3) fail(`unexpected answer ${JSON.stringify(answer.rows)}`);
if (answer.horizon.snapshotVersion !== 1 || answer.consistency.mode !== 'live') fail('horizon or consistency missing');

const server = await startServingServer(serving, { port: 0 });
try {
  const health = await (await fetch(`${server.url}/health`)).json();
  if (health.status !== 'ok') fail(`/health: ${JSON.stringify(health)}`);
  const views = await (await fetch(`${server.url}/api/views`)).json();
  if (views.views.length !== 2) fail(`/api/views: ${JSON.stringify(views)}`);
  const bad = await fetch(`${server.url}/api/views/sensor_5min?limit=0`);
  if (bad.status !== 400 || (await bad.json()).parameter !== 'limit') fail('bad limit not refused');
  for (const path of ['/', '/dashboard/dashboard.js', '/dashboard/uPlot.iife.min.js']) {
    const res = await fetch(server.url + path);
    if (res.status !== 200) fail(`${path}: ${res.status}`);
  }
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  if (!metrics.includes('lambdaline_serving_queries_total{view="sensor_5min"} 1')) fail('/metrics lacks the query count');
} finally {
  await server.close();
  serving.close();
}
console.log('smoke.mjs: ok');
