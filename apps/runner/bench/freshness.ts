/**
 * End-to-end freshness: from producing an event to Kafka to seeing it over
 * HTTP, with `lambdaline start` on a real broker while
 * `lambdaline generate stream --rate 5000` runs and a batch republishes every
 * 10 s. Probe events (one every 50 ms, each for a sensor of its own so it
 * makes a new row) are produced here with kafkajs; the clock starts just
 * before `send()`. Two observers, both over HTTP:
 *   - SSE: `GET /api/views/sensor_5min/stream?from=<10 min ago>` (what the
 *     dashboard sees; the server coalesces changes for 250 ms);
 *   - polling: `GET /api/views/sensor_5min?sensor_id=<probe>` every 10 ms
 *     until the row is there (what an API client sees).
 *
 *   npm run build -w apps/runner && KAFKA_BROKERS=127.0.0.1:9092 npx tsx apps/runner/bench/freshness.ts
 */
import { Partitioners } from 'kafkajs';
import { BROKERS, machine, percentile, setup, spawnCli, teardown } from './harness.js';

const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const PROBE_EVERY_MS = 50;
const PROBE_SENSOR_BASE = 9_000_000;

interface Probe {
  readonly sensor: string;
  readonly sentAt: number;
  sse?: number;
  poll?: number;
}

try {
  const s = await setup('freshness');
  const runner = spawnCli(['start', '--brokers', BROKERS, '--topic', s.topic, '--group', s.group, '--dataset', `${s.dir}/dataset`, '--port', String(s.port), '--batch-every', '10s'], 'start');
  await runner.waitFor(/lambdaline is running/);
  const stream = spawnCli(['generate', 'stream', '--brokers', BROKERS, '--topic', s.topic, '--rate', String(RATE), '--malformed-share', '0'], 'generate stream');
  await new Promise((r) => setTimeout(r, 5_000)); // let the stream reach its rate

  const count = Math.floor((SECONDS * 1000) / PROBE_EVERY_MS);
  const probes: Probe[] = [];
  const bySensor = new Map<string, Probe>();

  // SSE: one stream of the windows from 10 minutes ago on (every sensor; the probes are among them).
  const sensors = Array.from({ length: count }, (_, i) => `sensor_${PROBE_SENSOR_BASE + i}`);
  const sseController = new AbortController();
  const sseUrl = `${s.base}/api/views/sensor_5min/stream?from=${new Date(Date.now() - 600_000).toISOString()}`;
  const sseDone = (async () => {
    const response = await fetch(sseUrl, { signal: sseController.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const now = Date.now();
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        for (const row of (JSON.parse(data.slice(6)) as { rows: Array<{ sensor_id: string }> }).rows ?? []) {
          const probe = bySensor.get(row.sensor_id);
          if (probe && probe.sse === undefined) probe.sse = now - probe.sentAt;
        }
      }
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  await new Promise((r) => setTimeout(r, 500));

  const producer = s.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const polls: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + i * PROBE_EVERY_MS;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const sensor = sensors[i]!;
    const sentAt = Date.now();
    const probe: Probe = { sensor, sentAt };
    probes.push(probe);
    bySensor.set(sensor, probe);
    const event = { event_id: `probe-${i}`, ts: new Date(sentAt).toISOString(), sensor_id: sensor, category: 'A', value1: 1, value2: 1, status: 'OK' };
    void producer.send({ topic: s.topic, acks: -1, messages: [{ key: sensor, value: JSON.stringify(event) }] });
    polls.push(
      (async () => {
        const url = `${s.base}/api/views/sensor_5min?sensor_id=${sensor}`;
        while (Date.now() - sentAt < 30_000) {
          const body = (await (await fetch(url)).json()) as { rows: unknown[] };
          if (body.rows.length > 0) {
            probe.poll = Date.now() - sentAt;
            return;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
    );
  }
  await Promise.all(polls);
  await new Promise((r) => setTimeout(r, 1_000));
  sseController.abort();
  await sseDone;
  await producer.disconnect();
  const status = (await (await fetch(`${s.base}/api/status`)).json()) as { batch: { snapshotVersion: number }; speed: { eventsPerSecond: number | null } };
  stream.child.kill('SIGTERM');

  const summary = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `| ${name} | ${sorted.length} / ${count} | ${percentile(sorted, 50)} | ${percentile(sorted, 90)} | ${percentile(sorted, 99)} | ${sorted[sorted.length - 1]} |`;
  };
  console.log(`\nlambdaline start on one local Kafka 4.1.1 broker (3 partitions), ${machine()}`);
  console.log(`background stream ${RATE.toLocaleString('en-US')} events/s (lambdaline generate stream; speed layer at ${Math.round(status.speed.eventsPerSecond ?? 0).toLocaleString('en-US')} events/s at the end); batch every 10 s (reached v${status.batch.snapshotVersion}); a probe every ${PROBE_EVERY_MS} ms for ${SECONDS} s\n`);
  console.log('| produce → visible over HTTP | probes seen | p50 ms | p90 ms | p99 ms | max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(summary('GET, polled every 10 ms', probes.flatMap((p) => (p.poll === undefined ? [] : [p.poll]))));
  console.log(summary('SSE stream (250 ms coalescing)', probes.flatMap((p) => (p.sse === undefined ? [] : [p.sse]))));
} finally {
  await teardown();
}
