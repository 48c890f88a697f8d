import { DEAD_LETTER_HEADERS } from '@lambdaline/core';
import type { DeadLetterRecord } from './source.js';

/** The headers a dead-letter message carries (names from core `DEAD_LETTER_HEADERS`). */
export function deadLetterHeaders(record: DeadLetterRecord): Record<string, string> {
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.code]: record.letter.code,
    [DEAD_LETTER_HEADERS.reason]: record.letter.reason,
    [DEAD_LETTER_HEADERS.sourceTopic]: record.topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(record.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: record.offset,
    [DEAD_LETTER_HEADERS.rejectedAt]: record.letter.at,
  };
  if (record.letter.field !== undefined) headers[DEAD_LETTER_HEADERS.field] = record.letter.field;
  return headers;
}

export function toBuffer(value: Buffer | Uint8Array | string | null): Buffer | string | null {
  if (value === null || typeof value === 'string' || Buffer.isBuffer(value)) return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
