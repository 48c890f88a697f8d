/**
 * Synthetic, good-looking sensor data for the browser test and the benchmark:
 * per sensor a daily cycle plus a trend and noise, split into a batch snapshot
 * (everything below the horizon) and live speed partition views.
 */
import type { SpeedStatus } from '@lambdaline/core';
import { inMemoryBatchSource, inMemorySpeedSource } from '../src/index.js';
import { mulberry32 } from '../../../tools/testing/random.ts';
import { Log, snapshotOf, speedViewOf, TOPIC } from './helpers.js';

export interface DemoOptions {
  readonly days: number;
  readonly sensors: number;
  /** One event per sensor every this many ms. */
  readonly everyMs: number;
  readonly partitions: number;
  /** The part of the last day the speed layer holds (the rest is in the batch). */
  readonly speedHours: number;
  /** End of the data (exclusive). */
  readonly end: number;
}


export function sensorValue(sensor: number, time: number, noise: number): number {
  const day = ((time % 86_400_000) / 86_400_000) * 2 * Math.PI;
  return Math.round((50 + sensor * 3 + 18 * Math.sin(day + sensor * 0.7) + 6 * Math.sin(day * 7 + sensor) + noise * 8) * 100) / 100;
}

export function demo(options: DemoOptions) {
  const rnd = mulberry32(42);
  const log = new Log();
  const start = options.end - options.days * 86_400_000;
  for (let t = start; t < options.end; t += options.everyMs) {
    for (let s = 1; s <= options.sensors; s++) {
      const time = t + Math.floor(rnd() * options.everyMs);
      log.append((s - 1) % options.partitions, time, s, sensorValue(s, time, rnd() - 0.5));
    }
  }
  const horizonTime = options.end - options.speedHours * 3_600_000;
  const ends = new Map<number, number>();
  for (const [p, list] of log.partitions) {
    const idx = list.findIndex((r) => r.time >= horizonTime);
    ends.set(p, idx < 0 ? list.length : idx);
  }
  const snapshot = snapshotOf(log, 1, ends, options.end - options.speedHours * 3_600_000 + 90_000);
  const epochs = new Map<number, number>();
  const view = (p: number) => speedViewOf(log, p, ends.get(p)!, log.end(p), `demo-${p}`, (epochs.set(p, (epochs.get(p) ?? 0) + 1), epochs.get(p)!));
  const batch = inMemoryBatchSource(snapshot);
  const status = (): SpeedStatus => ({
    partitions: [...log.partitions.keys()].map((p) => ({ topic: TOPIC, partition: p, nextOffset: String(log.end(p)), highWatermark: String(log.end(p) + 3), lag: 3 })),
    eventsPerSecond: 850 + Math.round(rnd() * 300),
    eventsTotal: log.all().length,
    deadLetters: { malformed_json: 12, out_of_range: 4, too_late: 7 },
  });
  const speed = inMemorySpeedSource([...log.partitions.keys()].map(view), status());
  return {
    log,
    ends,
    batch,
    speed,
    /** The speed layer folds what was appended to partition `p` since the last call. */
    flush(p: number) {
      speed.setStatus(status());
      speed.put(view(p));
    },
  };
}
