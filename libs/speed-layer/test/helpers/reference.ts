/**
 * The independent reference: what a partition's speed view must be, computed
 * from scratch with core's `foldEvents` over the records of the partition,
 * following the rules of DEVELOPERS.md's horizon protocol literally.
 */
import {
  defaultDomain,
  diffViewRows,
  foldEvents,
  makeHorizon,
  parseEvent,
  resolveDomain,
  type EventSchema,
  type Horizon,
  type LambdaEvent,
  type ResolvedViewSpec,
  type RowDifference,
  type ViewRow,
} from '@lambdaline/core';

export interface RefRecord {
  readonly offset: string;
  readonly value: string | Uint8Array | null;
}

export interface RefOptions {
  readonly schema: EventSchema;
  readonly views: readonly ResolvedViewSpec[];
  readonly allowedLatenessMs: number;
  readonly retentionMs: number;
}

export const HOUR = 3_600_000;

/**
 * The reference options of a speed layer on core's default domain, with its
 * allowedLateness and retention (defaults: the speed layer's, 1h and 2d).
 */
export function defaultRef(o: { lateness?: number; retention?: number } = {}): RefOptions {
  const domain = resolveDomain(defaultDomain);
  return { schema: domain.schema, views: domain.views, allowedLatenessMs: o.lateness ?? HOUR, retentionMs: o.retention ?? 48 * HOUR };
}

export interface RefPartition {
  /** View name → rows over [base, next), too-late ones excluded, evicted windows dropped. */
  readonly views: Record<string, ViewRow[]>;
  readonly maxEventTime: number | null;
  readonly tooLate: string[];
  readonly invalid: string[];
}

/** Records must be the partition's records from offset 0, in order. */
export function referencePartition(records: readonly RefRecord[], base: number, next: number, o: RefOptions): RefPartition {
  let max = Number.NEGATIVE_INFINITY;
  const kept: Array<{ event: LambdaEvent; time: number }> = [];
  const tooLate: string[] = [];
  const invalid: string[] = [];
  for (const r of records) {
    const offset = Number(r.offset);
    if (offset >= next) break;
    const result = parseEvent(o.schema, r.value);
    if (!result.ok) {
      if (offset >= base) invalid.push(r.offset);
      continue;
    }
    const t = result.eventTime;
    const late = t < max - o.allowedLatenessMs;
    if (offset >= base) {
      if (late) tooLate.push(r.offset);
      else kept.push({ event: result.event, time: t });
    }
    if (t > max) max = t;
  }
  const views: Record<string, ViewRow[]> = {};
  for (const spec of o.views) {
    const rows = foldEvents(spec, kept.map((k) => k.event));
    views[spec.name] = rows.filter((row) => row.windowStart + spec.windowMs > max - o.retentionMs);
  }
  return { views, maxEventTime: max === Number.NEGATIVE_INFINITY ? null : max, tooLate, invalid };
}

/** The horizon a batch layer would publish after archiving records below `ends[p]` of each partition. */
export function referenceHorizon(topic: string, partitions: ReadonlyArray<readonly RefRecord[]>, ends: readonly number[], schema: EventSchema): Horizon {
  return makeHorizon(
    ends.map((end, p) => {
      let max: number | null = null;
      for (const r of partitions[p] ?? []) {
        if (Number(r.offset) >= end) break;
        const result = parseEvent(schema, r.value);
        if (result.ok && (max === null || result.eventTime > max)) max = result.eventTime;
      }
      return { topic, partition: p, endOffset: String(end), maxEventTime: max };
    }),
  );
}

/** Batch view over records below `end` (every valid record, late or not). */
export function batchFold(records: readonly RefRecord[], end: number, spec: ResolvedViewSpec, schema: EventSchema): ViewRow[] {
  const events: LambdaEvent[] = [];
  for (const r of records) {
    if (Number(r.offset) >= end) break;
    const result = parseEvent(schema, r.value);
    if (result.ok) events.push(result.event);
  }
  return foldEvents(spec, events);
}

export function describeDiff(diff: readonly RowDifference[]): string {
  return diff.slice(0, 5).map((d) => `${d.key}${d.measure ? ` ${d.measure}` : ''}: expected ${JSON.stringify(d.expected)} got ${JSON.stringify(d.actual)}`).join('\n');
}

export function diffViews(specs: readonly ResolvedViewSpec[], expected: Readonly<Record<string, readonly ViewRow[]>>, actual: Readonly<Record<string, readonly ViewRow[]>>): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const diff = diffViewRows(spec, expected[spec.name] ?? [], actual[spec.name] ?? []);
    if (diff.length > 0) out.push(`${spec.name}: ${diff.length} differences\n${describeDiff(diff)}`);
  }
  return out;
}
