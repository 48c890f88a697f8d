/**
 * Speed-layer benchmark against the real broker (KAFKA_BROKERS, default 127.0.0.1:9092).
 *
 *   npm run bench -w libs/speed-layer        (BENCH_EVENTS=1000000 BENCH_PARTITIONS=4 BENCH_FRESH_SECONDS=20)
 *
 * 1. Preloads BENCH_EVENTS generated events into a new topic.
 * 2. Throughput, side by side, each in its own process, alternating bare/speed three times:
 *    (a) a bare kafkajs eachBatch loop that only JSON.parses each value,
 *    (b) the speed layer maintaining both default views (validation with core's
 *        parseEvent, lateness, eviction, replay buffer, change emission).
 *    Reports events/s (best of three), the ratio b/a (also of the medians), each process's peak
 *    RSS, and µs per event split into time inside eachBatch (the loop's own processing) and
 *    outside it (fetching, kafkajs decoding, GC, emission). Both timing windows start once
 *    kafkajs run() has returned (joined, partitions assigned; the speed layer's start() returns
 *    there) and end when the last event is counted (a) or the change covering it is emitted (b).
 * 0. Where the time goes, in memory (no Kafka): µs per event for decoding + JSON.parse (the
 *    bare loop), decoding + core's parseEvent (parse + validate, the speed layer), folding both
 *    default views (this package's accumulator, and core's ViewAccumulator for comparison) and
 *    the replay buffer; interleaved rounds, medians (see breakdown()).
 * 3. Freshness: the speed layer follows a new topic while a producer writes 5,000 events/s;
 *    latency = from just before producer.send to the change that covers the event's offset.
 * Topics are deleted at the end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { defaultDomain, parseEvent, resolveDomain, ViewAccumulator, type LambdaEvent } from '@lambdaline/core';
import { resolveBrokers } from '../src/index.js';
import { Projection, ReplayBuffer } from '../src/replay-buffer.js';
import { ViewState } from '../src/view-state.js';
import { sensorMessages, take } from '../test/helpers/events.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const FRESH_SECONDS = Number(process.env.BENCH_FRESH_SECONDS ?? 20);
const FRESH_RATE = Number(process.env.BENCH_FRESH_RATE ?? 5_000);
const brokers = resolveBrokers(process.env.KAFKA_BROKERS);
const phase = fileURLToPath(new URL('./phase.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const kafka = new Kafka({ clientId: 'speed-bench', brokers, logLevel: logLevel.ERROR });
const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const topics: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'speed-bench-'));

interface PhaseResult {
  mode: string;
  events: number;
  seconds?: number;
  eventsPerSecond?: number;
  peakRssMB: number;
  [key: string]: unknown;
}

function runPhase(args: string[], onReady?: () => void): { done: Promise<PhaseResult>; stop: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', phase, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const done = new Promise<PhaseResult>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const lines = output.split('\n');
      output = lines.pop()!;
      for (const line of lines) {
        const parsed = JSON.parse(line) as PhaseResult & { ready?: boolean };
        if (parsed.ready) onReady?.();
        else resolve(parsed);
      }
    });
    child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`phase ${args[0]} exited with ${code}`))));
  });
  return { done, stop: () => child.kill('SIGTERM') };
}

async function createTopic(name: string): Promise<string> {
  await admin.createTopics({ topics: [{ topic: name, numPartitions: PARTITIONS }], waitForLeaders: true });
  topics.push(name);
  return name;
}

async function preload(topic: string): Promise<void> {
  const gen = sensorMessages({ seed: 42, sensors: 100, stepMs: 150, jitterMs: 60_000 });
  const chunk = 10_000;
  const t0 = now();
  for (let sent = 0; sent < EVENTS; sent += chunk) {
    const messages = [];
    for (let i = 0; i < Math.min(chunk, EVENTS - sent); i++) messages.push({ value: gen.next().value as string, partition: (sent + i) % PARTITIONS });
    await producer.send({ topic, acks: 1, messages });
  }
  console.log(`preloaded ${EVENTS} events into ${topic} (${PARTITIONS} partitions) in ${((now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Where the time goes, in memory, µs per event. The inputs are what kafkajs hands over:
 * 200,000 distinct Buffers (a working set far beyond the CPU caches, like a fetch). The
 * measures are interleaved round by round (so machine load and heap state hit all of them
 * alike) and the median of 7 rounds is reported:
 *   decode        Buffer → string (`toString()`), which both loops do;
 *   jsonParse     decode + JSON.parse: the bare loop's per-event work;
 *   parseEvent    decode + core parseEvent(string): what the speed layer does per event;
 *   validation    parseEvent − jsonParse on the same input: the cost of core's validator;
 *   foldBothViews this package's fold of both default views (ViewState) over parsed events;
 *   replayBuffer  pushing the parsed events into a replay buffer;
 *   coreViewAccumulatorBothViews  core's generic ViewAccumulator, for comparison.
 */
function breakdown(): Record<string, number> {
  const n = 200_000;
  const values = take(sensorMessages({ seed: 7, sensors: 100, stepMs: 150, jitterMs: 60_000 }), n).map((v) => Buffer.from(v));
  const { schema, views } = resolveDomain(defaultDomain);
  let sink = 0;
  const parsed = values.map((v) => parseEvent(schema, v.toString())).filter((r) => r.ok) as Array<{ event: LambdaEvent; eventTime: number }>;
  const measures: Record<string, () => void> = {
    decode: () => {
      for (const v of values) sink += v.toString().length;
    },
    jsonParse: () => {
      for (const v of values) sink += (JSON.parse(v.toString()) as { value2: number }).value2;
    },
    parseEvent: () => {
      for (const v of values) sink += parseEvent(schema, v.toString()).ok ? 1 : 0;
    },
    foldBothViews: () => {
      const states = views.map((spec) => new ViewState(spec));
      for (const r of parsed) for (const s of states) s.add(r.event, r.eventTime);
    },
    replayBuffer: () => {
      const buffer = new ReplayBuffer(new Projection(schema, views), 0);
      for (let i = 0; i < parsed.length; i++) buffer.push(i, parsed[i]!.eventTime, parsed[i]!.event);
      sink += buffer.size;
    },
    coreViewAccumulatorBothViews: () => {
      const accs = views.map((spec) => new ViewAccumulator(spec));
      for (const r of parsed) for (const a of accs) a.add(r.event, r.eventTime);
    },
  };
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < 7; round++) {
    for (const [name, fn] of Object.entries(measures)) {
      const t = performance.now();
      fn();
      (samples[name] ??= []).push(((performance.now() - t) * 1000) / n);
    }
  }
  if (sink < 0) console.log(sink);
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(samples)) out[name] = list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  out.validation = out.parseEvent! - out.jsonParse!;
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function freshness(): Promise<Record<string, number>> {
  const topic = await createTopic(`bench-fresh-${suffix}`);
  const out = join(dir, 'emissions.json');
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const consumer = runPhase(['fresh', topic, out], () => ready());
  await isReady;
  await new Promise((r) => setTimeout(r, 500));
  // Produce FRESH_RATE events/s: every 10 ms, whatever the schedule says is due.
  const sends: Array<{ t: number; offsets: Map<number, [string, number]> }> = [];
  const pending: Promise<void>[] = [];
  const start = now();
  let produced = 0;
  let next = 0;
  const total = FRESH_RATE * FRESH_SECONDS;
  while (produced < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * FRESH_RATE));
    if (due > produced) {
      const count = due - produced;
      const messages = [];
      const perPartition = new Map<number, number>();
      for (let i = 0; i < count; i++) {
        const partition = next++ % PARTITIONS;
        perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
        const ts = new Date().toISOString();
        messages.push({ partition, value: JSON.stringify({ event_id: `f${next}`, ts, sensor_id: `sensor_${1 + (next % 100)}`, category: 'A', value1: next % 1000, value2: 1 + (next % 99), status: 'OK' }) });
      }
      produced = due;
      const t = now();
      pending.push(
        producer.send({ topic, acks: 1, messages }).then((metadata) => {
          const offsets = new Map<number, [string, number]>();
          for (const m of metadata) offsets.set(m.partition, [m.baseOffset!, perPartition.get(m.partition) ?? 0]);
          sends.push({ t, offsets });
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  const elapsed = (now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  consumer.stop();
  const result = await consumer.done;
  const emissions = JSON.parse(readFileSync(out, 'utf8')) as Array<[number, number, number]>;
  // For each partition, the times at which nextOffset first passed each value.
  const byPartition = new Map<number, Array<[number, number]>>();
  for (const [t, p, nextOffset] of emissions) {
    const list = byPartition.get(p) ?? [];
    list.push([t, nextOffset]);
    byPartition.set(p, list);
  }
  const latencies: number[] = [];
  for (const send of sends) {
    for (const [p, [base, count]] of send.offsets) {
      const list = byPartition.get(p) ?? [];
      const last = Number(base) + count - 1;
      // Every event of the send: the first emission whose nextOffset covers it.
      for (let offset = Number(base); offset <= last; offset++) {
        const hit = list.find(([, n]) => n > offset);
        latencies.push(hit ? hit[0] - send.t : Number.POSITIVE_INFINITY);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    produced: total,
    seconds: elapsed,
    rate: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1]!,
    missing: latencies.filter((l) => !Number.isFinite(l)).length,
    peakRssMB: result.peakRssMB,
  };
}

try {
  const cost = breakdown();
  const f2 = (x: number | undefined) => x!.toFixed(2);
  console.log(
    `in memory, µs per event (median of 7 interleaved rounds, 200,000 Buffers): decode ${f2(cost.decode)}, decode + JSON.parse ${f2(cost.jsonParse)}, decode + core parseEvent ${f2(cost.parseEvent)} (validation ${f2(cost.validation)}), fold both views ${f2(cost.foldBothViews)} (core ViewAccumulator: ${f2(cost.coreViewAccumulatorBothViews)}), replay buffer ${f2(cost.replayBuffer)}`,
  );
  await admin.connect();
  await producer.connect();
  const topic = await createTopic(`bench-events-${suffix}`);
  await preload(topic);
  const runs: PhaseResult[] = [];
  for (const mode of ['bare', 'speed', 'bare', 'speed', 'bare', 'speed']) {
    const result = await runPhase([mode, topic, String(EVENTS)]).done;
    const perEvent = (s: number) => ((s * 1e6) / result.events).toFixed(2);
    const processing = result.processingSeconds as number;
    console.log(
      `${mode.padEnd(5)}: ${Math.round(result.eventsPerSecond!).toLocaleString('en-US')} events/s (${result.seconds!.toFixed(2)} s), µs/event: ${perEvent(result.seconds!)} = ${perEvent(processing)} in eachBatch + ${perEvent(result.seconds! - processing)} outside (fetch, kafkajs decoding, GC, emission), peak RSS ${result.peakRssMB} MB`,
    );
    runs.push(result);
  }
  const best = (mode: string) => runs.filter((r) => r.mode === mode).sort((a, b) => b.eventsPerSecond! - a.eventsPerSecond!)[0]!;
  const a = best('bare');
  const b = best('speed');
  const median = (mode: string) => runs.filter((r) => r.mode === mode).map((r) => r.eventsPerSecond!).sort((x, y) => x - y)[1]!;
  console.log(
    `throughput ratio speed/bare: ${(b.eventsPerSecond! / a.eventsPerSecond!).toFixed(2)} (best of three each; target >= 0.7), median of three each: ${(median('speed') / median('bare')).toFixed(2)}`,
  );
  console.log(`speed views: ${JSON.stringify(b.rows)}, replay buffer ${String(b.bufferedRecords)} records`);
  const f = await freshness();
  console.log(
    `freshness at ${Math.round(f.rate!)} events/s for ${f.seconds!.toFixed(1)} s: p50 ${f.p50!.toFixed(1)} ms, p99 ${f.p99!.toFixed(1)} ms, max ${f.max!.toFixed(1)} ms (target p99 <= 100 ms), missing ${f.missing}, peak RSS ${f.peakRssMB} MB`,
  );
  console.log(`\n| measure | value |\n|---|---|`);
  console.log(`| (a) bare kafkajs eachBatch + JSON.parse | ${Math.round(a.eventsPerSecond!).toLocaleString('en-US')} events/s, peak RSS ${a.peakRssMB} MB |`);
  console.log(`| (b) speed layer, both default views | ${Math.round(b.eventsPerSecond!).toLocaleString('en-US')} events/s, peak RSS ${b.peakRssMB} MB |`);
  console.log(`| ratio (b)/(a) | ${(b.eventsPerSecond! / a.eventsPerSecond!).toFixed(2)} |`);
  console.log(
    `| in memory, µs/event: decode + JSON.parse / decode + core parseEvent (validation) / fold both views / replay buffer | ${f2(cost.jsonParse)} / ${f2(cost.parseEvent)} (${f2(cost.validation)}) / ${f2(cost.foldBothViews)} / ${f2(cost.replayBuffer)} |`,
  );
  console.log(`| freshness p50 / p99 at ${FRESH_RATE.toLocaleString('en-US')} events/s | ${f.p50!.toFixed(1)} ms / ${f.p99!.toFixed(1)} ms |`);
} finally {
  await producer.disconnect().catch(() => undefined);
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
