/**
 * The independent side of the end-to-end tests: which events an HTTP answer
 * says it covers (its horizon and per-partition consistency), and core's
 * `foldEvents` over exactly those, compared with the answer's rows.
 */
import {
  defaultViews,
  finalizeRow,
  foldEvents,
  parseEvent,
  rowKey,
  sensorEventSchema,
  validateViewSpecs,
  type FinalRow,
  type LambdaEvent,
  type ResolvedViewSpec,
} from '@lambdaline/core';
import { expect } from 'vitest';
import type { TopicRecord } from './kafka.js';

export const SPECS = validateViewSpecs(defaultViews, sensorEventSchema);

export interface Answer {
  readonly view: string;
  readonly horizon: { snapshotVersion: number; partitions: Array<{ topic: string; partition: number; endOffset: string }> };
  readonly consistency: { mode: string; partitions: Array<{ topic: string; partition: number; state: 'live' | 'frozen' | 'excluded'; baseOffset: string; nextOffset: string | null }> };
  readonly truncated: boolean;
  readonly rows: FinalRow[];
}

interface Parsed {
  readonly offset: number;
  readonly event: LambdaEvent | null;
  readonly time: number;
}

function parsePartition(records: readonly TopicRecord[]): Parsed[] {
  return records.map((r) => {
    const result = parseEvent(sensorEventSchema, r.value);
    return result.ok ? { offset: r.offset, event: result.event, time: result.eventTime } : { offset: r.offset, event: null, time: Number.NaN };
  });
}

/**
 * The events an answer covers: all history, per partition the valid records
 * below the batch horizon's end offset, plus, for a partition whose speed view
 * is added (live or frozen), the valid records in [base, next) that were not too
 * late — too late = event time below (largest event time of the partition's
 * earlier valid records) − allowed lateness, the rule of DEVELOPERS.md.
 */
export function coveredEvents(answer: Answer, topic: string, history: readonly LambdaEvent[], records: readonly TopicRecord[][], allowedLatenessMs: number): LambdaEvent[] {
  const events: LambdaEvent[] = [...history];
  records.forEach((partitionRecords, partition) => {
    const parsed = parsePartition(partitionRecords);
    const end = Number(answer.horizon.partitions.find((p) => p.topic === topic && p.partition === partition)?.endOffset ?? 0);
    const use = answer.consistency.partitions.find((p) => p.topic === topic && p.partition === partition);
    let maxTime = Number.NEGATIVE_INFINITY;
    for (const r of parsed) {
      if (r.offset >= end || r.event === null) continue;
      events.push(r.event);
      if (r.time > maxTime) maxTime = r.time;
    }
    if (!use || use.state === 'excluded' || use.nextOffset === null) return;
    expect(Number(use.baseOffset), `partition ${partition}: speed base = batch end`).toBe(end);
    const next = Number(use.nextOffset);
    for (const r of parsed) {
      if (r.offset < end || r.offset >= next || r.event === null) continue;
      if (r.time < maxTime - allowedLatenessMs) continue;
      events.push(r.event);
      if (r.time > maxTime) maxTime = r.time;
    }
    expect(next, `partition ${partition}: the speed view cannot be past what was read back`).toBeLessThanOrEqual(partitionRecords.length === 0 ? 0 : partitionRecords[partitionRecords.length - 1]!.offset + 1);
  });
  return events;
}

export function allValidEvents(history: readonly LambdaEvent[], records: readonly TopicRecord[][]): LambdaEvent[] {
  const events: LambdaEvent[] = [...history];
  for (const partition of records) for (const r of parsePartition(partition)) if (r.event) events.push(r.event);
  return events;
}

const key = (spec: ResolvedViewSpec, row: FinalRow) => rowKey(Date.parse(String(row.window_start)), spec.dimensions.map((d) => row[d] ?? null));

/** Asserts the answer's rows are the finalised fold of `events`: counts, minima, maxima exact; averages and sums to 1e-9. */
export function expectRowsEqualFold(spec: ResolvedViewSpec, rows: readonly FinalRow[], events: readonly LambdaEvent[], label: string): void {
  const expected = new Map(foldEvents(spec, events).map((row) => [rowKey(row.windowStart, row.dims), finalizeRow(spec, row)]));
  const actual = new Map(rows.map((row) => [key(spec, row), row]));
  const problems: string[] = [];
  for (const [k, want] of expected) {
    const got = actual.get(k);
    if (!got) {
      problems.push(`missing ${k}: ${JSON.stringify(want)}`);
      continue;
    }
    for (const m of spec.measures) {
      const a = want[m.name] as number | null;
      const b = got[m.name] as number | null;
      const close = a === null || b === null ? a === b : m.op === 'avg' || m.op === 'sum' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)) : a === b;
      if (!close) problems.push(`${k} ${m.name}: expected ${a}, got ${b}`);
    }
  }
  for (const k of actual.keys()) if (!expected.has(k)) problems.push(`unexpected row ${k}: ${JSON.stringify(actual.get(k))}`);
  expect(problems.slice(0, 20), `${label}: ${problems.length} differences (${expected.size} rows expected)`).toEqual([]);
}

export function expectSameRows(spec: ResolvedViewSpec, a: readonly FinalRow[], b: readonly FinalRow[], label: string): void {
  expect(a.length, `${label}: row count`).toBe(b.length);
  const byKey = new Map(b.map((row) => [key(spec, row), row]));
  for (const row of a) {
    const other = byKey.get(key(spec, row));
    expect(other, `${label}: ${key(spec, row)}`).toBeDefined();
    for (const m of spec.measures) {
      const x = row[m.name] as number;
      const y = other![m.name] as number;
      if (m.op === 'avg' || m.op === 'sum') expect(Math.abs(x - y), `${label}: ${key(spec, row)} ${m.name}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
      else expect(y, `${label}: ${key(spec, row)} ${m.name}`).toBe(x);
    }
  }
}

/** GET json. */
export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

export async function waitUntil<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
