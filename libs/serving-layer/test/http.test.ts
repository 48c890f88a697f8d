import { ConfigError, foldEvents, validateViewSpecs, type EventSchema, type ViewSpec } from '@lambdaline/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createServingLayer,
  createServingServer,
  inMemoryBatchSource,
  inMemorySpeedSource,
  startServingServer,
  UnknownViewError,
  type ServingLayer,
} from '../src/index.js';
import { fiveMin, foldAll, Log, snapshotOf, speedViewOf, T0, TOPIC, waitFor } from './helpers.js';

const log = new Log();
// Two days, 3 sensors, 2 partitions; every 10 minutes.
for (let i = 0; i < 2 * 24 * 6; i++) log.append(i % 2, T0 + i * 10 * 60_000 + 30_000, 1 + (i % 3), (i % 17) - 3.5);
const ends = new Map([[0, 100], [1, 90]]);
const batch = inMemoryBatchSource(snapshotOf(log, 1, ends));
const speed = inMemorySpeedSource(
  [speedViewOf(log, 0, 100, log.end(0), 'e0', 1), speedViewOf(log, 1, 90, log.end(1), 'e1', 1)],
  {
    partitions: [
      { topic: TOPIC, partition: 0, nextOffset: String(log.end(0)), highWatermark: String(log.end(0) + 5), lag: 5 },
      { topic: TOPIC, partition: 1, nextOffset: String(log.end(1)), highWatermark: String(log.end(1)), lag: 0 },
    ],
    eventsPerSecond: 1234.5,
    eventsTotal: 99_000,
    deadLetters: { malformed_json: 3, too_late: 2 },
  },
);
let serving: ServingLayer;
let app: FastifyInstance;

beforeAll(async () => {
  serving = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });
  app = createServingServer(serving, { sseFlushMs: 20, heartbeatMs: 50 });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  serving.close();
});

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, headers: res.headers, body: String(res.headers['content-type']).includes('json') ? res.json() : res.body };
};

describe('GET /api/views', () => {
  it('lists the view specs with dimension types', async () => {
    const { status, body } = await get('/api/views');
    expect(status).toBe(200);
    expect(body.views.map((v: { name: string }) => v.name)).toEqual(['daily_by_category', 'sensor_5min']);
    expect(body.views[1]).toMatchObject({ window: '5m', windowMs: 300_000, dimensions: ['sensor_id'], dimensionTypes: { sensor_id: 'string' } });
    expect(body.views[1].measures.map((m: { name: string }) => m.name)).toEqual(['avg_value1', 'min_value1', 'max_value1', 'message_count']);
  });
});

describe('GET /api/views/:name', () => {
  it('answers { view, horizon, freshness, rows } over all events, ordered by window then dimensions', async () => {
    const { status, body } = await get('/api/views/sensor_5min?limit=10000');
    expect(status).toBe(200);
    expect(body.view).toBe('sensor_5min');
    expect(body.horizon).toMatchObject({ snapshotVersion: 1, partitions: [{ topic: TOPIC, partition: 0, endOffset: '100' }, { topic: TOPIC, partition: 1, endOffset: '90' }] });
    expect(body.horizon.maxEventTime).toMatch(/^2024-05-0/);
    expect(body.freshness.newestEventTime).toBe(new Date(Math.max(...log.all().map((r) => r.time))).toISOString());
    expect(body.freshness.ageMs).toBeGreaterThan(0);
    expect(body.freshness.speedLag).toBe(5);
    expect(body.consistency.mode).toBe('live');
    const expected = foldAll(fiveMin, log.all());
    expect(body.rows).toHaveLength(expected.length);
    expect(body.truncated).toBe(false);
    const order = body.rows.map((r: Record<string, unknown>) => `${r.window_start}|${r.sensor_id}`);
    expect(order).toEqual([...order].sort());
    const first = body.rows[0];
    expect(Object.keys(first)).toEqual(['window_start', 'sensor_id', 'avg_value1', 'min_value1', 'max_value1', 'message_count']);
    const want = expected[0]!;
    expect(first.window_start).toBe(new Date(want.windowStart).toISOString());
    const avg = want.parts.avg_value1 as { sum: number; count: number };
    expect(first.avg_value1).toBeCloseTo(avg.sum / avg.count, 9);
  });

  it('filters by from (inclusive) / to (exclusive) on window start: ISO-8601, epoch ms or a UTC date', async () => {
    const from = T0 + 3600_000, to = T0 + 2 * 3600_000;
    const iso = await get(`/api/views/sensor_5min?from=${new Date(from).toISOString()}&to=${encodeURIComponent('2024-05-01T04:00:00+02:00')}`);
    const epoch = await get(`/api/views/sensor_5min?from=${from}&to=${to}`);
    expect(iso.status).toBe(200);
    expect(iso.body.rows).toEqual(epoch.body.rows);
    expect(epoch.body.rows.length).toBeGreaterThan(0);
    for (const row of epoch.body.rows) {
      const start = Date.parse(row.window_start);
      expect(start >= from && start < to).toBe(true);
    }
    const day = await get('/api/views/daily_by_category?from=2024-05-02');
    expect(day.body.rows.every((r: { window_start: string }) => r.window_start === '2024-05-02T00:00:00.000Z')).toBe(true);
    expect(day.body.rows.map((r: { category: string }) => r.category)).toEqual(['A', 'B', 'C', 'D'].filter((c) => day.body.rows.some((r: { category: string }) => r.category === c)));
  });

  it('filters by dimension values (repeat a parameter for any of several)', async () => {
    const one = await get('/api/views/sensor_5min?sensor_id=sensor_2&limit=10000');
    expect(one.body.rows.length).toBeGreaterThan(0);
    expect(new Set(one.body.rows.map((r: { sensor_id: string }) => r.sensor_id))).toEqual(new Set(['sensor_2']));
    const two = await get('/api/views/sensor_5min?sensor_id=sensor_2&sensor_id=sensor_3&limit=10000');
    expect(new Set(two.body.rows.map((r: { sensor_id: string }) => r.sensor_id))).toEqual(new Set(['sensor_2', 'sensor_3']));
    const cat = await get('/api/views/daily_by_category?category=B');
    expect(cat.body.rows.map((r: { category: string }) => r.category)).toEqual(['B', 'B']);
  });

  it('cuts at limit and says so', async () => {
    const { body } = await get('/api/views/sensor_5min?limit=3');
    expect(body.rows).toHaveLength(3);
    expect(body.truncated).toBe(true);
    const all = await get('/api/views/sensor_5min?limit=10000');
    expect(body.rows).toEqual(all.body.rows.slice(0, 3));
    const dflt = await get('/api/views/sensor_5min');
    expect(dflt.body.rows.length).toBe(Math.min(1000, all.body.rows.length));
  });

  it('serves the new answer after a speed update (the rows cache follows the view)', async () => {
    const before = await get('/api/views/sensor_5min?sensor_id=sensor_1&limit=10000');
    const rec = log.append(0, T0 + 47 * 3600_000 + 59 * 60_000, 1, 1000);
    speed.put(speedViewOf(log, 0, 100, log.end(0), 'e0', 2));
    const after = await get('/api/views/sensor_5min?sensor_id=sensor_1&limit=10000');
    const last = after.body.rows.at(-1);
    expect(last.window_start).toBe(new Date(Math.floor(rec.time / 300_000) * 300_000).toISOString());
    expect(last.max_value1).toBe(1000);
    expect(after.body.rows.length).toBeGreaterThanOrEqual(before.body.rows.length);
  });
});

describe('bad requests: 400/404 with { error, parameter }', () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ['/api/views/sensor_5min?from=yesterday', 400, 'from', /not a time/],
    ['/api/views/sensor_5min?from=', 400, 'from', /empty/],
    ['/api/views/sensor_5min?to=2024-02-30T00:00:00Z', 400, 'to', /does not exist/],
    ['/api/views/sensor_5min?to=2024-05-01T00:00:00', 400, 'to', /offset|not an ISO/],
    ['/api/views/sensor_5min?from=2024-05-02&to=2024-05-01', 400, 'to', /after from/],
    ['/api/views/sensor_5min?from=99999999999999999', 400, 'from', /range/],
    ['/api/views/sensor_5min?limit=0', 400, 'limit', /1 to 10000/],
    ['/api/views/sensor_5min?limit=10001', 400, 'limit', /1 to 10000/],
    ['/api/views/sensor_5min?limit=ten', 400, 'limit', /integer/],
    ['/api/views/sensor_5min?limit=1.5', 400, 'limit', /integer/],
    ['/api/views/sensor_5min?limit=1&limit=2', 400, 'limit', /more than once/],
    ['/api/views/sensor_5min?sensor=sensor_1', 400, 'sensor', /unknown parameter.*sensor_id/],
    ['/api/views/sensor_5min?sensor_id=sensor_0', 400, 'sensor_id', /does not match/],
    ["/api/views/sensor_5min?sensor_id=x'%3B%20DROP%20TABLE%20v%3B--", 400, 'sensor_id', /does not match/],
    ['/api/views/daily_by_category?category=Z', 400, 'category', /one of A, B, C, D/],
    ['/api/views/daily_by_category?sensor_id=sensor_1', 400, 'sensor_id', /unknown parameter/],
    ['/api/views/nope', 404, 'name', /no such view.*daily_by_category, sensor_5min/],
    ['/api/views/nope/stream', 404, 'name', /no such view/],
    ['/api/views/sensor_5min/stream?limit=0', 400, 'limit', /1 to 10000/],
  ];
  for (const [url, status, parameter, message] of cases) {
    it(`${url} → ${status} naming ${parameter}`, async () => {
      const res = await get(url);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.parameter).toBe(parameter);
      expect(res.body.error).toMatch(new RegExp(`^${parameter === 'name' ? 'view' : parameter}`));
      expect(res.body.error).toMatch(message);
    });
  }

  it('unknown routes are 404 JSON too', async () => {
    const res = await get('/api/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/no route GET \/api\/nothing/);
  });
});

describe('typed dimension filters (integer, boolean)', () => {
  const schema: EventSchema = {
    name: 'device_event',
    timeField: 'ts',
    fields: { ts: { type: 'timestamp' }, device: { type: 'integer', min: 1, max: 500 }, ok: { type: 'boolean' }, v: { type: 'number' } },
  };
  const views: ViewSpec[] = [{ name: 'by_device', window: '1h', dimensions: ['device', 'ok'], measures: [{ name: 'n', op: 'count' }, { name: 'total', op: 'sum', field: 'v' }] }];
  const events = Array.from({ length: 40 }, (_, i) => ({ ts: new Date(T0 + i * 600_000).toISOString(), device: 1 + (i % 4), ok: i % 3 === 0, v: i }));
  const [spec] = validateViewSpecs(views, schema);
  const rows = foldEvents(spec!, events);
  const layer = createServingLayer({
    schema,
    views,
    batch: inMemoryBatchSource({ version: 1, createdAt: new Date(T0).toISOString(), horizon: { partitions: [], maxEventTime: T0 + 39 * 600_000 }, views: { by_device: rows } }),
    metrics: { defaultMetrics: false },
  });
  const server = createServingServer(layer, { dashboard: false });

  it('parses filter values by the schema type', async () => {
    const res = await server.inject({ url: '/api/views/by_device?device=3&ok=true' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.rows.length).toBeGreaterThan(0);
    expect(body.rows.every((r: { device: number; ok: boolean }) => r.device === 3 && r.ok === true)).toBe(true);
    expect(body.rows.reduce((a: number, r: { n: number }) => a + r.n, 0)).toBe(events.filter((e) => e.device === 3 && e.ok).length);
  });

  it('refuses values of the wrong type, naming the parameter', async () => {
    for (const [query, parameter, why] of [
      ['device=three', 'device', /integer/],
      ['device=501', 'device', /within 1..500/],
      ['ok=yes', 'ok', /true or false/],
    ] as const) {
      const res = await server.inject({ url: `/api/views/by_device?${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ parameter });
      expect(res.json().error).toMatch(why);
    }
  });

  it('the JS API takes typed values and throws typed errors', () => {
    const answer = layer.query('by_device', { filters: { device: [1, 2], ok: false }, from: new Date(T0), to: T0 + 3 * 3600_000 });
    expect(answer.rows.every((r) => (r.device === 1 || r.device === 2) && r.ok === false)).toBe(true);
    expect(() => layer.query('by_device', { filters: { device: '3' } })).toThrowError(ConfigError);
    expect(() => layer.query('by_device', { filters: { device: '3' } })).toThrow(/filters.device: must be an integer/);
    expect(() => layer.query('by_device', { filters: { device: [1, 501] } })).toThrow(/^filters\.device: must be within 1\.\.500, got 501$/);
    expect(() => layer.query('by_device', { filters: { ok: 'yes' } })).toThrow(/^filters\.ok: must be a boolean, got the string "yes"$/);
    expect(() => layer.query('by_device', { limit: 0 })).toThrow(expect.objectContaining({ field: 'limit' }));
    expect(() => layer.query('by_device', { filters: { colour: 'red' } })).toThrow(expect.objectContaining({ field: 'filters.colour' }));
    expect(() => layer.query('by_device', { form: 1 } as never)).toThrow(expect.objectContaining({ field: 'form' }));
    expect(() => layer.query('nope')).toThrowError(UnknownViewError);
  });
});

describe('status, metrics, health, dashboard', () => {
  it('GET /api/status reports batch, speed and serving', async () => {
    await get('/api/views/sensor_5min?limit=1');
    const { status, body } = await get('/api/status');
    expect(status).toBe(200);
    expect(body.batch).toMatchObject({ snapshotVersion: 1, lastRun: { mode: 'full', durationMs: 2500 }, retainedVersions: [1] });
    expect(body.batch.horizon.partitions).toHaveLength(2);
    expect(body.speed).toMatchObject({ lagTotal: 5, eventsPerSecond: 1234.5, eventsTotal: 99_000, deadLetters: { malformed_json: 3, too_late: 2 }, deadLettersTotal: 5 });
    expect(body.speed.partitions[0]).toMatchObject({ topic: TOPIC, partition: 0, state: 'live', baseOffset: '100', lag: 5, epoch: 'e0' });
    expect(body.serving.queriesTotal).toBeGreaterThan(0);
    expect(body.serving.mode).toBe('live');
    expect(typeof body.serving.queriesPerSecond).toBe('number');
  });

  it('GET /metrics is Prometheus text that parses', async () => {
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const samples = new Map<string, number>();
    for (const line of res.body.split('\n')) {
      if (line === '' || line.startsWith('#')) {
        if (line.startsWith('# TYPE')) expect(line).toMatch(/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/);
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
      expect(m, line).not.toBeNull();
      samples.set(m![1]!, Number(m![2]));
    }
    expect(samples.get('lambdaline_serving_queries_total{view="sensor_5min"}')).toBeGreaterThan(0);
    expect(samples.get('lambdaline_serving_query_errors_total{reason="bad_parameter"}')).toBeGreaterThan(0);
    expect(samples.get('lambdaline_serving_query_errors_total{reason="unknown_view"}')).toBeGreaterThan(0);
    expect(samples.has('lambdaline_serving_query_duration_seconds_bucket{le="0.001",view="sensor_5min"}')).toBe(true);
    expect(samples.get('lambdaline_speed_partition_lag{topic="events",partition="0"}')).toBe(5);
    expect(samples.get('lambdaline_speed_events_per_second')).toBe(1234.5);
    expect(samples.get('lambdaline_speed_dead_letters_total{code="malformed_json"}')).toBe(3);
    expect(samples.get('lambdaline_batch_snapshot_version')).toBe(1);
    expect(samples.get('lambdaline_serving_pair_mode{mode="live"}')).toBe(1);
    expect(samples.get('lambdaline_serving_rows{view="daily_by_category"}')).toBe(6);
    expect(samples.has('lambdaline_serving_sse_clients')).toBe(true);
  });

  it('GET /health', async () => {
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', snapshotVersion: 1, mode: 'live', speedPartitions: 2 });
  });

  it('GET / serves the dashboard and its assets, nothing from elsewhere', async () => {
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const srcs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.every((s) => s.startsWith('/') || s.startsWith('data:'))).toBe(true);
    for (const src of srcs.filter((s) => s.startsWith('/'))) {
      const asset = await app.inject({ url: src });
      expect(asset.statusCode, src).toBe(200);
    }
    const uplot = await app.inject({ url: '/dashboard/uPlot.iife.min.js' });
    expect(uplot.body).toMatch(/uPlot/);
  });
});

describe('real listen and Server-Sent Events', () => {
  it('streams a snapshot, then a change after a speed update, then cleans up on disconnect', async () => {
    const server = await startServingServer(serving, { port: 0, sseFlushMs: 20, heartbeatMs: 50 });
    try {
      expect(((await (await fetch(`${server.url}/health`)).json()) as { status: string }).status).toBe('ok');
      const abort = new AbortController();
      const res = await fetch(`${server.url}/api/views/sensor_5min/stream?sensor_id=sensor_2&from=${T0 + 24 * 3600_000}`, { signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      const events: Array<{ event: string; data: any }> = [];
      let comments = 0;
      const pump = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let i;
          while ((i = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            if (block.startsWith(':')) comments++;
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      })();
      const snapshot = await waitFor(() => events.find((e) => e.event === 'snapshot'), 'snapshot event');
      expect(snapshot.data.view).toBe('sensor_5min');
      expect(snapshot.data.rows.length).toBeGreaterThan(0);
      expect(snapshot.data.rows.every((r: { sensor_id: string; window_start: string }) => r.sensor_id === 'sensor_2' && Date.parse(r.window_start) >= T0 + 24 * 3600_000)).toBe(true);
      await waitFor(() => serving.status().serving.sseClients === 1, 'client counted');

      // A speed update for sensor_2 and one for sensor_1 (filtered out by this stream).
      log.append(1, T0 + 47 * 3600_000 + 58 * 60_000, 2, 777);
      log.append(1, T0 + 47 * 3600_000 + 58 * 60_000, 1, 555);
      speed.put(speedViewOf(log, 1, 90, log.end(1), 'e1', 2));
      const change = await waitFor(() => events.find((e) => e.event === 'change'), 'change event');
      expect(change.data.rows).toHaveLength(1);
      expect(change.data.rows[0]).toMatchObject({ sensor_id: 'sensor_2', window_start: '2024-05-02T23:55:00.000Z', max_value1: 777 });
      expect(change.data.horizon.snapshotVersion).toBe(1);
      expect(change.data.freshness.newestEventTime).toBeDefined();
      await waitFor(() => comments > 0, 'a heartbeat comment');

      abort.abort();
      await pump;
      await waitFor(() => serving.status().serving.sseClients === 0, 'client cleaned up');
    } finally {
      await server.close();
    }
  });

  it('closing the server ends open streams', async () => {
    const server = await startServingServer(serving, { port: 0 });
    const res = await fetch(`${server.url}/api/views/daily_by_category/stream`);
    await waitFor(() => serving.status().serving.sseClients === 1, 'client counted');
    await server.close();
    await res.body?.cancel().catch(() => undefined);
    expect(serving.status().serving.sseClients).toBe(0);
  });
});
