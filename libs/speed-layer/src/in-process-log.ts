/**
 * An in-process, partitioned, append-only log with Kafka's semantics: topics
 * with a fixed number of partitions, offsets as decimal strings starting at
 * "0", records ordered per partition, readable and subscribable from any
 * offset, and committed offsets per consumer group. The demo, unit tests and
 * anything that wants lambdaline without a broker share one of these.
 */
import { assertParam, ConfigError, type SourceRecord } from '@lambdaline/core';
import { Observable } from 'rxjs';

export interface AppendOptions {
  /** Explicit partition; otherwise by key hash, or round robin without a key. */
  readonly partition?: number;
  readonly key?: string | Uint8Array | null;
  /** Log append time, epoch ms; defaults to now. */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A record of the in-process log: a core `SourceRecord` plus optional headers. */
export interface LogRecord extends SourceRecord {
  readonly headers?: Readonly<Record<string, string>>;
}

interface TopicState {
  readonly partitions: LogRecord[][];
  roundRobin: number;
  readonly listeners: Set<(partition: number) => void>;
}

/** FNV-1a over the key's UTF-8 bytes: stable partitioning by key. */
function hashKey(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class InProcessLog {
  private readonly topics = new Map<string, TopicState>();
  private readonly groupOffsets = new Map<string, string>();

  constructor(topics: Readonly<Record<string, number>> = {}) {
    for (const [topic, partitions] of Object.entries(topics)) this.createTopic(topic, partitions);
  }

  /** Creates a topic; a no-op when it exists with the same partition count. */
  createTopic(topic: string, partitions = 1): void {
    assertParam(typeof topic === 'string' && topic.length > 0, 'topic', 'must be a non-empty string');
    assertParam(Number.isInteger(partitions) && partitions >= 1, 'partitions', `must be a positive integer, got ${partitions}`);
    const existing = this.topics.get(topic);
    if (existing) {
      if (existing.partitions.length !== partitions) {
        throw new ConfigError(`partitions: topic ${topic} already exists with ${existing.partitions.length} partitions, not ${partitions}`, 'partitions');
      }
      return;
    }
    this.topics.set(topic, { partitions: Array.from({ length: partitions }, () => []), roundRobin: 0, listeners: new Set() });
  }

  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  partitionCount(topic: string): number {
    return this.topic(topic).partitions.length;
  }

  /** Appends one record and returns it (with its offset). */
  append(topic: string, value: string | Uint8Array | null, options: AppendOptions = {}): LogRecord {
    const state = this.topic(topic);
    const partition = this.choosePartition(state, topic, options);
    const records = state.partitions[partition]!;
    const record: LogRecord = {
      topic,
      partition,
      offset: String(records.length),
      key: options.key ?? null,
      value,
      timestamp: String(options.timestamp ?? Date.now()),
      ...(options.headers ? { headers: { ...options.headers } } : {}),
    };
    records.push(record);
    for (const listener of state.listeners) listener(partition);
    return record;
  }

  /** Appends several records (same options for each). */
  appendMany(topic: string, values: Iterable<string | Uint8Array | null>, options: AppendOptions = {}): LogRecord[] {
    const out: LogRecord[] = [];
    for (const value of values) out.push(this.append(topic, value, options));
    return out;
  }

  /** The offset the next record of the partition will get (Kafka's log end offset). */
  endOffset(topic: string, partition: number): string {
    return String(this.partitionRecords(topic, partition).length);
  }

  endOffsets(topic: string): Map<number, string> {
    const state = this.topic(topic);
    return new Map(state.partitions.map((records, p) => [p, String(records.length)]));
  }

  /** Records from `fromOffset` (inclusive), at most `maxRecords`. */
  read(topic: string, partition: number, fromOffset: string | number = 0, maxRecords = Number.POSITIVE_INFINITY): LogRecord[] {
    const records = this.partitionRecords(topic, partition);
    const from = Number(fromOffset);
    assertParam(Number.isInteger(from) && from >= 0, 'fromOffset', `must be a non-negative integer offset, got ${String(fromOffset)}`);
    return records.slice(from, Math.min(records.length, from + maxRecords));
  }

  /** The record at an offset, or undefined. */
  get(topic: string, partition: number, offset: string | number): LogRecord | undefined {
    return this.partitionRecords(topic, partition)[Number(offset)];
  }

  /**
   * Every record of a partition from `fromOffset` on: the ones already there,
   * then each new one as it is appended. Records are delivered asynchronously
   * (never inside `append`), in offset order.
   */
  records(topic: string, partition: number, fromOffset: string | number = 0): Observable<LogRecord> {
    const records = this.partitionRecords(topic, partition);
    const start = Number(fromOffset);
    assertParam(Number.isInteger(start) && start >= 0, 'fromOffset', `must be a non-negative integer offset, got ${String(fromOffset)}`);
    return new Observable<LogRecord>((subscriber) => {
      let position = start;
      let scheduled = false;
      const pump = () => {
        scheduled = false;
        while (!subscriber.closed && position < records.length) subscriber.next(records[position++]!);
      };
      const schedule = () => {
        if (!scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      };
      const stop = this.onAppend(topic, (p) => {
        if (p === partition) schedule();
      });
      schedule();
      return stop;
    });
  }

  /** Calls `listener(partition)` synchronously after every append to the topic; returns a stop function. */
  onAppend(topic: string, listener: (partition: number) => void): () => void {
    const state = this.topic(topic);
    state.listeners.add(listener);
    return () => state.listeners.delete(listener);
  }

  /** Stores a consumer group's committed offset (the next offset to read). */
  commitOffset(groupId: string, topic: string, partition: number, offset: string): void {
    this.partitionRecords(topic, partition);
    this.groupOffsets.set(`${groupId}\u0000${topic}\u0000${partition}`, offset);
  }

  committedOffset(groupId: string, topic: string, partition: number): string | null {
    return this.groupOffsets.get(`${groupId}\u0000${topic}\u0000${partition}`) ?? null;
  }

  private topic(topic: string): TopicState {
    const state = this.topics.get(topic);
    if (!state) throw new ConfigError(`topic: ${JSON.stringify(topic)} does not exist in this InProcessLog (createTopic it first)`, 'topic');
    return state;
  }

  private partitionRecords(topic: string, partition: number): LogRecord[] {
    const records = this.topic(topic).partitions[partition];
    if (!records) throw new ConfigError(`partition: topic ${topic} has no partition ${partition}`, 'partition');
    return records;
  }

  private choosePartition(state: TopicState, topic: string, options: AppendOptions): number {
    const count = state.partitions.length;
    if (options.partition !== undefined) {
      assertParam(Number.isInteger(options.partition) && options.partition >= 0 && options.partition < count, 'partition', `topic ${topic} has partitions 0..${count - 1}, got ${options.partition}`);
      return options.partition;
    }
    if (options.key !== undefined && options.key !== null) return hashKey(options.key) % count;
    const p = state.roundRobin % count;
    state.roundRobin = (state.roundRobin + 1) % count;
    return p;
  }
}
