// Runs against the packed @lambdaline/serving-layer installed in a fresh project (tools/pack-check).
const { foldEvents, validateViewSpecs, defaultViews, sensorEventSchema } = require('@lambdaline/core');
const { createServingLayer, inMemoryBatchSource, inMemorySpeedSource, startServingServer, UnknownViewError } = require('@lambdaline/serving-layer');

const fail = (why) => {
  console.error(`smoke.cjs: ${why}`);
  process.exit(1);
};

async function main() {
  const [daily] = validateViewSpecs(defaultViews, sensorEventSchema);
  const events = [
    { event_id: 'a', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_1', category: 'B', value1: 1, value2: 2, status: 'OK' },
    { event_id: 'b', ts: '2024-05-01T11:00:00Z', sensor_id: 'sensor_2', category: 'B', value1: 3, value2: 4, status: 'OK' },
  ];
  // No snapshot yet: the speed view starts at offset 0.
  const speed = inMemorySpeedSource([
    { topic: 'events', partition: 0, epoch: 'x', seq: 1, baseOffset: '0', nextOffset: '2', maxEventTime: Date.parse(events[1].ts), watermark: null, updatedAt: Date.now(), views: { daily_by_category: foldEvents(daily, events) } },
  ]);
  const serving = createServingLayer({ batch: inMemoryBatchSource(), speed });
  const answer = serving.query('daily_by_category', { filters: { category: 'B' } });
  if (answer.rows.length !== 1 || answer.rows[0].avg_value1 !== 2 || answer.rows[0].record_count !== 2) fail(`unexpected answer ${JSON.stringify(answer.rows)}`);
  try {
    serving.query('nope');
    fail('unknown view accepted');
  } catch (error) {
    if (!(error instanceof UnknownViewError)) fail(`wrong error ${error}`);
  }
  const server = await startServingServer(serving, { port: 0 });
  try {
    const health = await (await fetch(`${server.url}/health`)).json();
    if (health.status !== 'ok') fail(`/health: ${JSON.stringify(health)}`);
    const views = await (await fetch(`${server.url}/api/views`)).json();
    if (!views.views.some((v) => v.name === 'sensor_5min')) fail(`/api/views: ${JSON.stringify(views)}`);
    const page = await fetch(`${server.url}/`);
    if (page.status !== 200 || !(await page.text()).includes('uPlot.iife.min.js')) fail('dashboard not served');
  } finally {
    await server.close();
    serving.close();
  }
  console.log('smoke.cjs: ok');
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
