/**
 * What the speed layer needs from a log: the same contract for Kafka (kafkajs
 * consumer group) and for the in-process log, so one pipeline runs over both.
 */
import type { DeadLetter } from '@lambdaline/core';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A message as the pipeline reads it; kafkajs `KafkaMessage`s satisfy it as they are. */
export interface SourceMessage {
  readonly offset: string;
  readonly key?: Buffer | Uint8Array | string | null;
  readonly value: Buffer | Uint8Array | string | null;
  readonly timestamp?: string;
}

/** Consecutive messages of one partition, in offset order, as fetched. */
export interface SourceBatch {
  readonly topic: string;
  readonly partition: number;
  /** The position the batch was read from (the offset asked for). */
  readonly fetchedOffset: string;
  readonly messages: readonly SourceMessage[];
  /** The last offset the batch accounts for (may exceed the last message's: control records). */
  readonly lastOffset: string;
  /** Log end offset when fetched; null when unknown. */
  readonly highWatermark: string | null;
  /** True when a seek was issued for the partition after this batch was fetched: skip it. */
  isStale(): boolean;
}

/** The speed layer's side of a source: the source calls these. */
export interface SourceHandler {
  /**
   * The complete current assignment, after every (re)join. Called
   * synchronously before any batch of the new assignment is delivered, so the
   * handler can `seek()` each partition to where it must start.
   */
  assigned(partitions: readonly TopicPartition[]): void;
  /** One batch; the source waits for the promise before delivering the next. */
  batch(batch: SourceBatch): Promise<void>;
  /** A failure the source cannot recover from by itself (the consumer crashed for good). */
  failed(error: Error): void;
}

/** A dead letter with the original message, as delivered to a sink. */
export interface DeadLetterRecord {
  readonly letter: DeadLetter;
  readonly key: Buffer | Uint8Array | string | null;
  readonly value: Buffer | Uint8Array | string | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Where dead letters go: resolves once they are durably stored, rejects to be retried. */
export interface DeadLetterSink {
  readonly description: string;
  deliver(records: readonly DeadLetterRecord[]): Promise<void>;
  close?(): Promise<void>;
}

export interface SpeedSource {
  /** `kafka` or `in-process`: shown in status and errors. */
  readonly kind: string;
  /** The events topic. */
  readonly topic: string;
  /** Connects and joins; resolves once the first assignment was handed to `handler.assigned`. */
  start(handler: SourceHandler): Promise<void>;
  /** Where the next batch of this partition must start. */
  seek(topic: string, partition: number, offset: string): void;
  /**
   * Committed group offsets of these partitions (null = none). The speed layer
   * commits the offset below which every record was folded and every dead
   * letter durably delivered, and uses it after a restart only to avoid
   * re-sending dead letters; the views themselves are rebuilt from the horizon.
   */
  committed(topic: string, partitions: readonly number[]): Promise<Map<number, string | null>>;
  commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: string }>): Promise<void>;
  /** Log end offsets (high watermarks) of the topic's partitions now. */
  endOffsets(): Promise<Map<number, string>>;
  /** The default sink for dead letters of this source. */
  deadLetterSink(): DeadLetterSink;
  stop(): Promise<void>;
}
