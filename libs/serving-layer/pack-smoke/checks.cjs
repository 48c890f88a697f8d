// The checks of serving-layer's pack smoke, shared by smoke.mjs (ESM, `import`) and smoke.cjs
// (CJS, `require`): each program loads the installed packages its own way and hands them to
// `run`, so the two differ only in how they load them. tools/pack-check copies this folder into
// a fresh project outside the repo (cwd) and runs both there. This file never loads a
// @lambdaline package itself.
'use strict';
const path = require('node:path');

/**
 * Runs every check; exits 1 at the first failure.
 * @param {typeof import('@lambdaline/serving-layer')} servingLayer
 * @param {typeof import('@lambdaline/core')} core the core the program loaded alongside (same format)
 * @param {{ format: 'ESM' | 'CJS', resolved: string }} loaded the module format and the file
 *   `@lambdaline/serving-layer` resolved to (import.meta.resolve or require.resolve)
 */
async function run(servingLayer, core, { format, resolved }) {
  const program = format === 'ESM' ? 'smoke.mjs' : 'smoke.cjs';
  const fail = (why) => {
    console.error(`${program}: ${why}`);
    process.exit(1);
  };
  try {
    const installed = path.join(process.cwd(), 'node_modules', '@lambdaline', 'serving-layer') + path.sep;
    if (!resolved.startsWith(installed)) fail(`resolved to ${resolved}, not the installed package under ${installed}`);
    if (!resolved.endsWith(format === 'ESM' ? 'index.js' : 'index.cjs')) fail(`${format} entry: ${resolved}`);
    await mergedAnswerAndHttp(servingLayer, core, fail);
    await speedOnlyAndErrors(servingLayer, core, fail);
  } catch (error) {
    fail(error && error.stack ? error.stack : String(error));
  }
  console.log(`${program}: ok`);
}

/** A snapshot plus a speed view merged at the horizon; /health, /api/views, a 400, the dashboard, /metrics. */
async function mergedAnswerAndHttp(servingLayer, core, fail) {
  const { foldEvents, validateViewSpecs, defaultViews, sensorEventSchema } = core;
  const { createServingLayer, inMemoryBatchSource, inMemorySpeedSource, startServingServer } = servingLayer;
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
    for (const url of ['/', '/dashboard/dashboard.js', '/dashboard/uPlot.iife.min.js']) {
      const res = await fetch(server.url + url);
      if (res.status !== 200) fail(`${url}: ${res.status}`);
    }
    const page = await (await fetch(`${server.url}/`)).text();
    if (!page.includes('uPlot.iife.min.js')) fail('dashboard page does not load uPlot');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    if (!metrics.includes('lambdaline_serving_queries_total{view="sensor_5min"} 1')) fail('/metrics lacks the query count');
  } finally {
    await server.close();
    serving.close();
  }
}

/** No snapshot yet (the speed view starts at offset 0), a dimension filter, an unknown view. */
async function speedOnlyAndErrors(servingLayer, core, fail) {
  const { foldEvents, validateViewSpecs, defaultViews, sensorEventSchema } = core;
  const { createServingLayer, inMemoryBatchSource, inMemorySpeedSource, UnknownViewError } = servingLayer;
  const [daily] = validateViewSpecs(defaultViews, sensorEventSchema);
  const events = [
    { event_id: 'a', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_1', category: 'B', value1: 1, value2: 2, status: 'OK' },
    { event_id: 'b', ts: '2024-05-01T11:00:00Z', sensor_id: 'sensor_2', category: 'B', value1: 3, value2: 4, status: 'OK' },
  ];
  const speed = inMemorySpeedSource([
    { topic: 'events', partition: 0, epoch: 'x', seq: 1, baseOffset: '0', nextOffset: '2', maxEventTime: Date.parse(events[1].ts), watermark: null, updatedAt: Date.now(), views: { daily_by_category: foldEvents(daily, events) } },
  ]);
  const serving = createServingLayer({ batch: inMemoryBatchSource(), speed });
  try {
    const answer = serving.query('daily_by_category', { filters: { category: 'B' } });
    if (answer.rows.length !== 1 || answer.rows[0].avg_value1 !== 2 || answer.rows[0].record_count !== 2) fail(`unexpected answer ${JSON.stringify(answer.rows)}`);
    let error;
    try {
      serving.query('nope');
    } catch (e) {
      error = e;
    }
    if (!(error instanceof UnknownViewError)) fail(`unknown view: wrong error ${error}`);
  } finally {
    serving.close();
  }
}

module.exports = { run };
