/**
 * Records as they come off a log (Kafka or the in-process source) and what
 * happens to the ones that are not valid events: they become dead letters with
 * their original bytes, where they came from and why. Nothing is dropped silently.
 */
import type { RejectionCode } from './event-schema.js';

/** One record of a partitioned, offset-ordered log. Offsets are decimal strings (KafkaJS). */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key?: Uint8Array | string | null;
  readonly value: Uint8Array | string | null;
  /** Log append time, epoch ms as a string (as KafkaJS gives it). Not the event time. */
  readonly timestamp?: string;
}

export type RecordOrigin =
  | { readonly kind: 'kafka'; readonly topic: string; readonly partition: number; readonly offset: string }
  | { readonly kind: 'file'; readonly path: string; readonly row?: number }
  | { readonly kind: 'api' };

/** A rejected input, kept with everything needed to inspect and replay it. */
export interface DeadLetter {
  readonly code: RejectionCode | 'processing_error';
  readonly field?: string;
  readonly reason: string;
  /** The original bytes as UTF-8 text (invalid sequences replaced), or null for an empty message. */
  readonly raw: string | null;
  readonly origin: RecordOrigin;
  /** When it was rejected, ISO-8601. */
  readonly at: string;
}

/** Kafka header names put on dead-letter messages, so any consumer can read the reason. */
export const DEAD_LETTER_HEADERS = {
  code: 'lambdaline-dlq-code',
  field: 'lambdaline-dlq-field',
  reason: 'lambdaline-dlq-reason',
  sourceTopic: 'lambdaline-dlq-source-topic',
  sourcePartition: 'lambdaline-dlq-source-partition',
  sourceOffset: 'lambdaline-dlq-source-offset',
  rejectedAt: 'lambdaline-dlq-rejected-at',
} as const;

/** Decodes message bytes for a dead letter without ever throwing. */
export function rawText(value: Uint8Array | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  // Kafka hands out Buffers: decode them directly (`toString()` without an encoding is UTF-8 and
  // skips the encoding lookup), other Uint8Arrays through a Buffer view.
  return Buffer.isBuffer(value) ? value.toString() : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}
