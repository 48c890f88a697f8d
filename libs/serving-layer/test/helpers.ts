/**
 * Synthetic records and a tiny model of the batch and speed layers built only
 * from core: a snapshot folds the records below a horizon, a speed partition
 * view folds the records of one partition from its base offset on.
 */
import {
  defaultViews,
  foldEvents,
  makeHorizon,
  sensorEventSchema,
  validateViewSpecs,
  type BatchSnapshot,
  type Horizon,
  type LambdaEvent,
  type ResolvedViewSpec,
  type SpeedPartitionView,
  type ViewRow,
} from '@lambdaline/core';

export const specs: ResolvedViewSpec[] = validateViewSpecs(defaultViews, sensorEventSchema);
export const daily = specs.find((s) => s.name === 'daily_by_category')!;
export const fiveMin = specs.find((s) => s.name === 'sensor_5min')!;

export const TOPIC = 'events';
export const T0 = Date.UTC(2024, 4, 1);

export interface Rec {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly time: number;
  readonly event: LambdaEvent;
}

export function makeEvent(i: number, time: number, sensor: number, value1: number, category = 'ABCD'[sensor % 4]!): LambdaEvent {
  return {
    event_id: `e${i}`,
    ts: new Date(time).toISOString(),
    sensor_id: `sensor_${sensor}`,
    category,
    value1,
    value2: 1 + (i % 99),
    status: 'OK',
  };
}

/** A log: per partition, records with offsets 0, 1, 2, ... */
export class Log {
  readonly partitions = new Map<number, Rec[]>();
  private counter = 0;

  append(partition: number, time: number, sensor: number, value1: number): Rec {
    const list = this.partitions.get(partition) ?? [];
    this.partitions.set(partition, list);
    const rec: Rec = { topic: TOPIC, partition, offset: list.length, time, event: makeEvent(this.counter++, time, sensor, value1) };
    list.push(rec);
    return rec;
  }

  all(): Rec[] {
    return [...this.partitions.values()].flat();
  }

  end(partition: number): number {
    return this.partitions.get(partition)?.length ?? 0;
  }
}

export function foldAll(spec: ResolvedViewSpec, records: readonly Rec[]): ViewRow[] {
  return foldEvents(spec, records.map((r) => r.event));
}

const maxOf = (records: readonly Rec[]) => records.reduce<number | null>((m, r) => (m === null || r.time > m ? r.time : m), null);

/** A horizon covering offsets below `ends[partition]`. */
export function horizonOf(log: Log, ends: ReadonlyMap<number, number>): Horizon {
  return makeHorizon(
    [...ends].map(([partition, end]) => ({
      topic: TOPIC,
      partition,
      endOffset: String(end),
      maxEventTime: maxOf((log.partitions.get(partition) ?? []).slice(0, end)),
    })),
  );
}

export function snapshotOf(log: Log, version: number, ends: ReadonlyMap<number, number>, createdAt = T0 + version * 1000): BatchSnapshot {
  const covered = [...ends].flatMap(([p, end]) => (log.partitions.get(p) ?? []).slice(0, end));
  return {
    version,
    createdAt: new Date(createdAt).toISOString(),
    horizon: horizonOf(log, ends),
    views: Object.fromEntries(specs.map((s) => [s.name, foldAll(s, covered)])),
    run: {
      mode: 'full',
      startedAt: new Date(createdAt - 2500).toISOString(),
      finishedAt: new Date(createdAt).toISOString(),
      durationMs: 2500,
      recordCount: covered.length,
      daysRecomputed: 1,
    },
  };
}

/** The speed layer's view of a partition: records in [base, next). */
export function speedViewOf(log: Log, partition: number, base: number, next: number, epoch: string, seq: number): SpeedPartitionView {
  const list = log.partitions.get(partition) ?? [];
  const folded = list.slice(base, next);
  const seeded = maxOf(list.slice(0, base));
  const own = maxOf(folded);
  return {
    topic: TOPIC,
    partition,
    epoch,
    seq,
    baseOffset: String(base),
    nextOffset: String(next),
    maxEventTime: own === null ? seeded : seeded === null ? own : Math.max(own, seeded),
    watermark: null,
    updatedAt: T0 + seq,
    views: Object.fromEntries(specs.map((s) => [s.name, foldAll(s, folded)])),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value that is not undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
