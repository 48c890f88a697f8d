/**
 * Load on GET /api/views/sensor_5min (a day of 5-minute windows × 100 sensors)
 * while a simulated speed layer keeps flushing, measured with autocannon in a
 * separate process. Side by side in one run: the serving layer's incremental
 * merged view against a naive server that re-merges batch + speed rows with
 * core's `mergeViewRows` on every request (same data, same stream).
 *
 *   npm run bench -w libs/serving-layer            (5 s per case)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=20 npm run bench -w libs/serving-layer
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  ViewAccumulator,
  finalizeRow,
  foldEvents,
  makeHorizon,
  mergeViewRows,
  sensorEventSchema,
  defaultViews,
  validateViewSpecs,
  type LambdaEvent,
  type SpeedPartitionView,
} from '@lambdaline/core';
import { fastify } from 'fastify';
import { createServingLayer, createServingServer, inMemoryBatchSource, inMemorySpeedSource, parseQueryParams } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SENSORS = 100;
const PARTITIONS = 4;
const DAY = 86_400_000;
const FLUSH_MS = 100;
const EVENTS_PER_FLUSH = 200; // 2,000 events/s into the speed views

const specs = validateViewSpecs(defaultViews, sensorEventSchema);
const fiveMin = specs.find((s) => s.name === 'sensor_5min')!;
const DAY0 = Date.UTC(2024, 4, 1);
const HORIZON = DAY0 + 21 * 3_600_000; // the batch covers the first 21 hours; the speed layer the rest

let n = 0;
const event = (time: number, sensor: number): LambdaEvent => ({
  event_id: `e${n++}`,
  ts: new Date(time).toISOString(),
  sensor_id: `sensor_${sensor}`,
  category: 'ABCD'[sensor % 4]!,
  value1: Math.round((50 + 20 * Math.sin(time / 3_600_000 + sensor)) * 100) / 100,
  value2: 1 + (n % 99),
  status: 'OK',
});

// One event per sensor per minute over the day.
const batchEvents: LambdaEvent[] = [];
const speedEvents: LambdaEvent[][] = Array.from({ length: PARTITIONS }, () => []);
for (let t = DAY0; t < DAY0 + DAY; t += 60_000) {
  for (let s = 1; s <= SENSORS; s++) {
    const e = event(t + s * 100, s);
    if (t < HORIZON) batchEvents.push(e);
    else speedEvents[s % PARTITIONS]!.push(e);
  }
}
const ends = [0, 1, 2, 3].map((p) => batchEvents.filter((e) => Number(String(e.sensor_id).slice(7)) % PARTITIONS === p).length);
const snapshot = {
  version: 1,
  createdAt: new Date(HORIZON + 60_000).toISOString(),
  horizon: makeHorizon(ends.map((end, partition) => ({ topic: 'events', partition, endOffset: String(end), maxEventTime: HORIZON - 1 }))),
  views: Object.fromEntries(specs.map((s) => [s.name, foldEvents(s, batchEvents)])),
};

// The simulated speed layer: incremental accumulators per partition, flushed every FLUSH_MS.
const accs = speedEvents.map((events) => {
  const perView = new Map(specs.map((s) => [s.name, new ViewAccumulator(s)]));
  for (const e of events) for (const acc of perView.values()) acc.add(e);
  return perView;
});
const next = speedEvents.map((events, p) => ends[p]! + events.length);
const seqs = [1, 1, 1, 1];
const partitionView = (p: number): SpeedPartitionView => ({
  topic: 'events', partition: p, epoch: `bench-${p}`, seq: seqs[p]!, baseOffset: String(ends[p]), nextOffset: String(next[p]),
  maxEventTime: DAY0 + DAY - 1, watermark: null, updatedAt: Date.now(),
  views: Object.fromEntries([...accs[p]!].map(([name, acc]) => [name, acc.rows()])),
});
const batch = inMemoryBatchSource(snapshot);
const speed = inMemorySpeedSource([0, 1, 2, 3].map(partitionView));
const serving = createServingLayer({ batch, speed, metrics: { defaultMetrics: false } });

let flushes = 0;
let streamed = 0;
const stream = setInterval(() => {
  const p = flushes++ % PARTITIONS;
  for (let i = 0; i < EVENTS_PER_FLUSH; i++) {
    // Late-ish updates into the last hour, for sensors of partition p.
    const sensor = 1 + ((i * PARTITIONS + p) % SENSORS);
    const e = event(DAY0 + DAY - 3_600_000 + ((streamed + i) % 3_600_000), sensor - (sensor % PARTITIONS) + p || PARTITIONS);
    for (const acc of accs[p]!.values()) acc.add(e);
  }
  streamed += EVENTS_PER_FLUSH;
  next[p]! += EVENTS_PER_FLUSH;
  seqs[p]!++;
  speed.put(partitionView(p));
}, FLUSH_MS);

// The naive baseline: re-merge and finalise on every request.
const naive = fastify();
naive.get('/api/views/sensor_5min', async (request, reply) => {
  const query = parseQueryParams(fiveMin, sensorEventSchema, request.query as Record<string, string>);
  const merged = mergeViewRows(fiveMin, snapshot.views.sensor_5min!, ...speed.partitions().map((v) => v.views.sensor_5min ?? []));
  const rows = [];
  for (const row of merged) {
    if (query.from !== null && row.windowStart < query.from) continue;
    if (query.to !== null && row.windowStart >= query.to) continue;
    if (!query.filters.every((f) => f.values.has(row.dims[f.index] ?? null))) continue;
    if (rows.length === query.limit) break;
    rows.push(finalizeRow(fiveMin, row));
  }
  return reply.type('application/json').send(JSON.stringify({ view: 'sensor_5min', rows }));
});

interface Result {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly rows: number;
  readonly non2xx: number;
}

async function load(name: string, url: string): Promise<Result> {
  const rows = ((await (await fetch(url)).json()) as { rows: unknown[] }).rows.length;
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '-c', String(CONNECTIONS), '-d', String(SECONDS), '--json', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  const result = JSON.parse(output) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number };
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, rows, non2xx: result.non2xx };
}

const app = createServingServer(serving, { dashboard: false });
await app.listen({ port: 0, host: '127.0.0.1' });
await naive.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const naiveBase = `http://127.0.0.1:${(naive.server.address() as { port: number }).port}`;
const day = `from=${new Date(DAY0).toISOString()}&to=${new Date(DAY0 + DAY).toISOString()}`;
const oneSensor = `/api/views/sensor_5min?${day}&sensor_id=sensor_42`;
const fullPage = `/api/views/sensor_5min?${day}&limit=10000`;

console.log(`sensor_5min: ${serving.status().serving.views.find((v) => v.name === 'sensor_5min')!.rows} merged rows (a day × ${SENSORS} sensors); ` +
  `stream: ${EVENTS_PER_FLUSH} events every ${FLUSH_MS} ms into ${PARTITIONS} speed partitions; autocannon -c ${CONNECTIONS} -d ${SECONDS}\n`);
const results: Result[] = [];
results.push(await load('one sensor, a day (serving layer)', base + oneSensor));
results.push(await load('one sensor, a day (naive re-merge)', naiveBase + oneSensor));
results.push(await load('10,000 rows (serving layer)', base + fullPage));
results.push(await load('10,000 rows (naive re-merge)', naiveBase + fullPage));
clearInterval(stream);

console.log('| case | rows/answer | requests/s | p50 ms | p99 ms | non-2xx |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) console.log(`| ${r.name} | ${r.rows} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`);
console.log(`\nspeed flushes during the run: ${flushes} (${streamed} events); SSE/changes were live throughout`);
console.log(`ratio serving/naive, one sensor: ${(results[0]!.rps / results[1]!.rps).toFixed(1)}× requests/s`);
console.log(`ratio serving/naive, 10,000 rows: ${(results[2]!.rps / results[3]!.rps).toFixed(1)}× requests/s`);
await app.close();
await naive.close();
serving.close();
