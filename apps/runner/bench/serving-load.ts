/**
 * Serving under load, end to end: `lambdaline start` on a real broker with a
 * day of history (100 sensors, a day of 5-minute windows) while
 * `lambdaline generate stream` keeps 1,000 events/s flowing through the speed
 * layer and a batch runs every 10 s; autocannon (separate process) loads
 * `GET /api/views/sensor_5min?...`.
 *
 *   npm run build -w apps/runner && KAFKA_BROKERS=127.0.0.1:9092 npx tsx apps/runner/bench/serving-load.ts
 *   BENCH_SECONDS=20 BENCH_CONNECTIONS=20 ...
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BROKERS, machine, runCli, setup, spawnCli, teardown } from './harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const EVENTS_PER_DAY = Number(process.env.BENCH_EVENTS_PER_DAY ?? 300_000);
const STREAM_RATE = Number(process.env.BENCH_STREAM_RATE ?? 1_000);
const DAY = '2024-05-01';

interface Result {
  readonly name: string;
  readonly rows: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function load(name: string, url: string): Promise<Result> {
  const answer = (await (await fetch(url)).json()) as { rows: unknown[] };
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '-c', String(CONNECTIONS), '-d', String(SECONDS), '--json', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`autocannon exited ${code}`))));
  });
  const r = JSON.parse(output) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  return { name, rows: answer.rows.length, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.non2xx + r.errors };
}

try {
  const s = await setup('serving');
  const dataset = join(s.dir, 'dataset');
  console.error(`history: ${EVENTS_PER_DAY.toLocaleString('en-US')} events on ${DAY} (100 sensors) ...`);
  await runCli(['generate', 'history', '--dataset', dataset, '--days', '1', '--events-per-day', String(EVENTS_PER_DAY), '--to', '2024-05-02', '--seed', '3'], 'generate history');
  const runner = spawnCli(['start', '--brokers', BROKERS, '--topic', s.topic, '--group', s.group, '--dataset', dataset, '--port', String(s.port), '--batch-every', '10s'], 'start');
  await runner.waitFor(/lambdaline is running/);
  spawnCli(['generate', 'stream', '--brokers', BROKERS, '--topic', s.topic, '--rate', String(STREAM_RATE), '--malformed-share', '1%'], 'generate stream');
  await new Promise((r) => setTimeout(r, 5_000));

  const view = `${s.base}/api/views/sensor_5min`;
  const cases: Array<[string, string]> = [
    ['one sensor, a day (288 windows)', `${view}?from=${DAY}&to=2024-05-02&sensor_id=sensor_42`],
    ['100 sensors, one hour', `${view}?from=${DAY}T12:00:00Z&to=${DAY}T13:00:00Z&limit=10000`],
    ['100 sensors, a day (first 10,000 of 28,800 rows)', `${view}?from=${DAY}&to=2024-05-02&limit=10000`],
  ];
  const results: Result[] = [];
  for (const [name, url] of cases) {
    console.error(`load: ${name} ...`);
    results.push(await load(name, url));
  }
  const status = (await (await fetch(`${s.base}/api/status`)).json()) as { batch: { snapshotVersion: number }; speed: { eventsTotal: number | null } };

  console.log(`\nlambdaline start on one local Kafka 4.1.1 broker (3 partitions), ${machine()}`);
  console.log(`history ${EVENTS_PER_DAY.toLocaleString('en-US')} events/day × 100 sensors; live stream ${STREAM_RATE}/s during the load; batch every 10 s (reached v${status.batch.snapshotVersion}); speed layer folded ${(status.speed.eventsTotal ?? 0).toLocaleString('en-US')} events`);
  console.log(`autocannon -c ${CONNECTIONS} -d ${SECONDS} (separate process)\n`);
  console.log('| query | rows/answer | requests/s | p50 ms | p99 ms | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) console.log(`| ${r.name} | ${r.rows.toLocaleString('en-US')} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.errors} |`);
} finally {
  await teardown();
}
