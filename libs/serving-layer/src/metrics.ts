/**
 * Prometheus metrics of a serving layer, in its own prom-client `Registry`
 * (several serving layers in one process do not collide). Source-derived
 * values (lag, events/s, dead letters, snapshot age) are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServingLayer } from './serving.js';

export interface ServingMetricsOptions {
  /** Register into this registry instead of a new one. */
  readonly registry?: Registry;
  /** Also collect prom-client's process metrics (CPU, memory, event loop). Default true. */
  readonly defaultMetrics?: boolean;
}

export interface ServingMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
  /** @internal */
  queryDone(view: string, seconds: number): void;
  /** @internal */
  queryError(reason: 'unknown_view' | 'bad_parameter'): void;
  /** @internal */
  sseClients(count: number): void;
}

export function createServingMetrics(serving: ServingLayer, options: ServingMetricsOptions = {}): ServingMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const queries = new Counter({ name: 'lambdaline_serving_queries_total', help: 'Queries answered, by view.', labelNames: ['view'], registers });
  const queryErrors = new Counter({
    name: 'lambdaline_serving_query_errors_total',
    help: 'Queries refused: unknown view (404) or bad parameter (400).',
    labelNames: ['reason'],
    registers,
  });
  const duration = new Histogram({
    name: 'lambdaline_serving_query_duration_seconds',
    help: 'Time to select and finalise the rows of a query, by view.',
    labelNames: ['view'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const sse = new Gauge({ name: 'lambdaline_serving_sse_clients', help: 'Open Server-Sent Events streams.', registers });
  new Gauge({
    name: 'lambdaline_serving_rows',
    help: 'Merged rows held, by view.',
    labelNames: ['view'],
    registers,
    collect() {
      for (const v of serving.status().serving.views) this.set({ view: v.name }, v.rows);
    },
  });
  new Gauge({
    name: 'lambdaline_serving_pair_mode',
    help: '1 for the consistent-pair mode in use (live, catching-up or partial), 0 for the others.',
    labelNames: ['mode'],
    registers,
    collect() {
      const mode = serving.consistency().mode;
      for (const m of ['live', 'catching-up', 'partial']) this.set({ mode: m }, m === mode ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lambdaline_serving_speed_partitions',
    help: 'Speed partition views by how they are used in answers (live, frozen, excluded).',
    labelNames: ['state'],
    registers,
    collect() {
      const counts = { live: 0, frozen: 0, excluded: 0 };
      for (const p of serving.consistency().partitions) counts[p.state]++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'lambdaline_serving_freshness_seconds',
    help: 'Age of the newest event included in answers.',
    registers,
    collect() {
      const age = serving.freshness().ageMs;
      if (age === null) this.reset();
      else this.set(age / 1000);
    },
  });
  new Gauge({
    name: 'lambdaline_speed_partition_lag',
    help: 'Records of a source partition the speed layer has not folded yet.',
    labelNames: ['topic', 'partition'],
    registers,
    collect() {
      this.reset();
      for (const p of serving.speedStatus()?.partitions ?? []) if (p.lag !== null) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
    },
  });
  new Gauge({
    name: 'lambdaline_speed_events_per_second',
    help: 'Valid events the speed layer folds per second (recent average).',
    registers,
    collect() {
      const status = serving.speedStatus();
      if (status) this.set(status.eventsPerSecond);
      else this.reset();
    },
  });
  new Counter({
    name: 'lambdaline_speed_events_total',
    help: 'Valid events the speed layer folded.',
    registers,
    collect() {
      this.reset();
      const status = serving.speedStatus();
      if (status) this.inc(status.eventsTotal);
    },
  });
  new Counter({
    name: 'lambdaline_speed_dead_letters_total',
    help: 'Records the speed layer rejected, by rejection code.',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(serving.speedStatus()?.deadLetters ?? {})) this.inc({ code }, n);
    },
  });
  new Gauge({
    name: 'lambdaline_batch_snapshot_version',
    help: 'Version of the batch snapshot answers use (0 = none yet).',
    registers,
    collect() {
      this.set(serving.horizon().snapshotVersion);
    },
  });
  new Gauge({
    name: 'lambdaline_batch_snapshot_age_seconds',
    help: 'Time since the batch snapshot in use was created.',
    registers,
    collect() {
      const age = serving.status().batch.ageMs;
      if (age === null) this.reset();
      else this.set(age / 1000);
    },
  });
  new Gauge({
    name: 'lambdaline_batch_horizon_max_event_time_seconds',
    help: 'Largest event time covered by the batch snapshot in use, Unix seconds.',
    registers,
    collect() {
      const max = serving.horizon().maxEventTime;
      if (max === null) this.reset();
      else this.set(Date.parse(max) / 1000);
    },
  });
  new Gauge({
    name: 'lambdaline_batch_last_run_duration_seconds',
    help: 'Duration of the last batch run.',
    registers,
    collect() {
      const run = serving.status().batch.lastRun;
      if (run) this.set(run.durationMs / 1000);
      else this.reset();
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    queryDone(view, seconds) {
      queries.inc({ view });
      duration.observe({ view }, seconds);
    },
    queryError(reason) {
      queryErrors.inc({ reason });
    },
    sseClients(count) {
      sse.set(count);
    },
  };
}
