/**
 * The horizon is the exact boundary between the batch and speed layers.
 *
 * A batch snapshot covers, for every Kafka topic-partition, all records with
 * offset < `endOffset` (exclusive end), plus any history ingested from files.
 * The speed layer covers records with offset >= that same `endOffset`. Because
 * the boundary is an offset and not a time, no event is in both or in neither.
 *
 * `maxEventTime` per partition is the largest event time among the covered
 * records: the speed layer seeds its watermark with it when it rebuilds from
 * the horizon, so "too late" is decided the same way before and after a restart.
 *
 * Offsets are decimal strings, as in KafkaJS, because they are 64-bit.
 */
import { ConfigError, FormatError } from './errors.js';

export interface PartitionHorizon {
  readonly topic: string;
  readonly partition: number;
  /** Exclusive end: every offset below it is covered by the batch. */
  readonly endOffset: string;
  /** Largest event time (epoch ms) among covered records; null if none were valid. */
  readonly maxEventTime: number | null;
}

export interface Horizon {
  /** Sorted by topic then partition; a partition not listed has endOffset "0". */
  readonly partitions: readonly PartitionHorizon[];
  /** Largest event time over everything covered, Kafka or file history. */
  readonly maxEventTime: number | null;
}

export type HorizonOrder = 'equal' | 'before' | 'after' | 'concurrent';

export function emptyHorizon(): Horizon {
  return { partitions: [], maxEventTime: null };
}

const OFFSET = /^(0|[1-9][0-9]{0,18})$/;

/** Validates a Kafka offset string and returns it as a bigint. */
export function parseOffset(offset: string | number | bigint, field = 'offset'): bigint {
  const text = String(offset);
  if (!OFFSET.test(text)) throw new ConfigError(`${field}: ${JSON.stringify(offset)} is not a non-negative integer offset`, field);
  return BigInt(text);
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const maxTime = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

function normalize(partitions: Iterable<PartitionHorizon>, maxEventTime: number | null): Horizon {
  const list = [...partitions]
    .filter((p) => p.endOffset !== '0' || p.maxEventTime !== null)
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const overall = list.reduce((acc, p) => maxTime(acc, p.maxEventTime), maxEventTime);
  return { partitions: list, maxEventTime: overall };
}

/** The end offset (exclusive) the horizon covers for a partition; "0" if none. */
export function horizonEndOffset(horizon: Horizon, topic: string, partition: number): string {
  return horizon.partitions.find((p) => p.topic === topic && p.partition === partition)?.endOffset ?? '0';
}

export function horizonPartition(horizon: Horizon, topic: string, partition: number): PartitionHorizon {
  return (
    horizon.partitions.find((p) => p.topic === topic && p.partition === partition) ?? {
      topic,
      partition,
      endOffset: '0',
      maxEventTime: null,
    }
  );
}

/** True when the batch covers this record, so the speed layer must not count it. */
export function isCoveredByHorizon(horizon: Horizon, topic: string, partition: number, offset: string | bigint): boolean {
  return parseOffset(offset) < BigInt(horizonEndOffset(horizon, topic, partition));
}

/** Records one more covered record: end offset becomes offset + 1 if that is further. */
export function extendHorizon(
  horizon: Horizon,
  topic: string,
  partition: number,
  offset: string | bigint,
  eventTime: number | null,
): Horizon {
  const end = parseOffset(offset) + 1n;
  const current = horizonPartition(horizon, topic, partition);
  const next: PartitionHorizon = {
    topic,
    partition,
    endOffset: end > BigInt(current.endOffset) ? end.toString() : current.endOffset,
    maxEventTime: maxTime(current.maxEventTime, eventTime),
  };
  const others = horizon.partitions.filter((p) => !(p.topic === topic && p.partition === partition));
  return normalize([...others, next], horizon.maxEventTime);
}

/** Covers what either covers: per partition the larger end offset. */
export function mergeHorizons(a: Horizon, b: Horizon): Horizon {
  const byTp = new Map<string, PartitionHorizon>();
  for (const p of [...a.partitions, ...b.partitions]) {
    const key = tpKey(p.topic, p.partition);
    const seen = byTp.get(key);
    if (!seen) {
      byTp.set(key, p);
      continue;
    }
    byTp.set(key, {
      topic: p.topic,
      partition: p.partition,
      endOffset: BigInt(p.endOffset) > BigInt(seen.endOffset) ? p.endOffset : seen.endOffset,
      maxEventTime: maxTime(p.maxEventTime, seen.maxEventTime),
    });
  }
  return normalize(byTp.values(), maxTime(a.maxEventTime, b.maxEventTime));
}

/**
 * Partial order on horizons by Kafka coverage: `before` when every partition
 * of `a` is at or below `b` and one is strictly below. Event times do not take
 * part (they follow from the offsets).
 */
export function compareHorizons(a: Horizon, b: Horizon): HorizonOrder {
  let below = false;
  let above = false;
  const keys = new Map<string, [string, number]>();
  for (const p of [...a.partitions, ...b.partitions]) keys.set(tpKey(p.topic, p.partition), [p.topic, p.partition]);
  for (const [topic, partition] of keys.values()) {
    const x = BigInt(horizonEndOffset(a, topic, partition));
    const y = BigInt(horizonEndOffset(b, topic, partition));
    if (x < y) below = true;
    if (x > y) above = true;
  }
  if (below && above) return 'concurrent';
  if (below) return 'before';
  if (above) return 'after';
  return 'equal';
}

export function horizonsEqual(a: Horizon, b: Horizon): boolean {
  return compareHorizons(a, b) === 'equal';
}

/** A short stable string for logs, metrics labels and cache keys. */
export function horizonKey(horizon: Horizon): string {
  return horizon.partitions.map((p) => `${p.topic}:${p.partition}@${p.endOffset}`).join(',') || 'empty';
}

/** Reads a horizon from JSON, checking every field. */
export function decodeHorizon(input: unknown, field = 'horizon'): Horizon {
  if (typeof input !== 'object' || input === null) throw new FormatError(`${field}: must be an object`, { field });
  const h = input as { partitions?: unknown; maxEventTime?: unknown };
  if (!Array.isArray(h.partitions)) throw new FormatError(`${field}.partitions: must be an array`, { field: `${field}.partitions` });
  const partitions = h.partitions.map((p, i): PartitionHorizon => {
    const at = `${field}.partitions[${i}]`;
    const part = p as Record<string, unknown>;
    if (typeof part?.topic !== 'string' || !Number.isInteger(part.partition) || (part.partition as number) < 0) {
      throw new FormatError(`${at}: needs a topic string and a non-negative integer partition`, { field: at });
    }
    if (typeof part.endOffset !== 'string' || !OFFSET.test(part.endOffset)) {
      throw new FormatError(`${at}.endOffset: must be a decimal offset string`, { field: `${at}.endOffset` });
    }
    if (part.maxEventTime !== null && typeof part.maxEventTime !== 'number') {
      throw new FormatError(`${at}.maxEventTime: must be epoch ms or null`, { field: `${at}.maxEventTime` });
    }
    return { topic: part.topic, partition: part.partition as number, endOffset: part.endOffset, maxEventTime: part.maxEventTime as number | null };
  });
  if (h.maxEventTime !== null && h.maxEventTime !== undefined && typeof h.maxEventTime !== 'number') {
    throw new FormatError(`${field}.maxEventTime: must be epoch ms or null`, { field: `${field}.maxEventTime` });
  }
  return normalize(partitions, (h.maxEventTime as number | null | undefined) ?? null);
}

/** Builds a horizon from partition entries (any order). */
export function makeHorizon(partitions: Iterable<PartitionHorizon>, maxEventTime: number | null = null): Horizon {
  return mergeHorizons(emptyHorizon(), normalize(partitions, maxEventTime));
}
