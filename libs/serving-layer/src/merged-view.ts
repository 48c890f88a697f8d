/**
 * The merged state of one view, kept up to date incrementally so that queries
 * only select and never merge.
 *
 * Components: the chosen snapshot's rows and the rows of each added speed
 * partition view, each indexed by row key. The merged row of a key is the
 * monoid combination of that key's row in every component (core
 * `mergeViewRows`, key by key). When one partition view changes, only the keys
 * whose rows differ from its previous view are recombined — min and max cannot
 * be subtracted, so a key is recombined from its components, never patched.
 * When the pair changes (another snapshot, a partition added, frozen or
 * excluded) everything is rebuilt and the difference reported.
 *
 * Rows are bucketed by window start, each bucket sorted lazily, so a range
 * query walks only the windows in range, in answer order.
 */
import {
  finalizeRow,
  measureMonoid,
  rowKey,
  compareRows,
  type DimensionValue,
  type FinalRow,
  type MeasurePart,
  type Monoid,
  type ResolvedViewSpec,
  type ViewRow,
} from '@lambdaline/core';
import type { NormalizedQuery } from './query.js';

export type RowIndex = ReadonlyMap<string, ViewRow>;

interface Entry {
  readonly key: string;
  readonly windowStart: number;
  readonly dims: readonly DimensionValue[];
  row: ViewRow;
  final: FinalRow;
}

interface Bucket {
  readonly entries: Map<string, Entry>;
  sorted: Entry[] | null;
  /** The window's final rows as JSON, comma-separated, in answer order; null when stale. */
  json: string | null;
}

/** What changed in a merged view: final rows upserted, and rows that disappeared. */
export interface MergedDelta {
  readonly upserted: FinalRow[];
  readonly removed: FinalRow[];
}

const EMPTY_INDEX: RowIndex = new Map();
const indexCache = new WeakMap<readonly ViewRow[], Map<string, ViewRow>>();

/** Rows by key; cached per row list, so a snapshot's rows are indexed once. */
export function indexRows(rows: readonly ViewRow[] | undefined): RowIndex {
  if (!rows || rows.length === 0) return EMPTY_INDEX;
  let index = indexCache.get(rows);
  if (!index) {
    index = new Map();
    for (const row of rows) index.set(rowKey(row.windowStart, row.dims), row);
    indexCache.set(rows, index);
  }
  return index;
}

function samePart(a: MeasurePart, b: MeasurePart): boolean {
  const x = a as unknown as Record<string, number | null>;
  const y = b as unknown as Record<string, number | null>;
  for (const field in x) if (x[field] !== y[field]) return false;
  for (const field in y) if (!(field in x)) return false;
  return true;
}

export class MergedView {
  readonly spec: ResolvedViewSpec;
  /** Increases whenever a row changes; query caches key on it. */
  version = 0;
  private readonly monoids: Array<Monoid<MeasurePart>>;
  private batch: RowIndex = EMPTY_INDEX;
  private parts = new Map<string, RowIndex>();
  private entries = new Map<string, Entry>();
  private buckets = new Map<number, Bucket>();
  private windowStarts: number[] | null = [];

  constructor(spec: ResolvedViewSpec) {
    this.spec = spec;
    this.monoids = spec.measures.map((m) => measureMonoid(m.op) as Monoid<MeasurePart>);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Replaces every component and reports what changed. */
  reset(batch: RowIndex, parts: ReadonlyMap<string, RowIndex>): MergedDelta {
    const oldEntries = this.entries;
    this.batch = batch;
    this.parts = new Map(parts);
    this.entries = new Map();
    this.buckets = new Map();
    this.windowStarts = null;
    const keys = new Set<string>(batch.keys());
    for (const index of parts.values()) for (const key of index.keys()) keys.add(key);
    const upserted: Entry[] = [];
    for (const key of keys) {
      const row = this.combine(key)!;
      const old = oldEntries.get(key);
      if (old && this.sameRow(old.row, row)) {
        this.insert(old);
        continue;
      }
      const entry = this.makeEntry(key, row);
      this.insert(entry);
      upserted.push(entry);
    }
    const removed: Entry[] = [];
    for (const [key, old] of oldEntries) if (!this.entries.has(key)) removed.push(old);
    return this.delta(upserted, removed);
  }

  /** Replaces partition components (null = remove one) and recombines only the keys they changed. */
  setPartitions(updates: Iterable<readonly [id: string, rows: RowIndex | null]>): MergedDelta {
    const changed = new Set<string>();
    for (const [id, next] of updates) {
      const previous = this.parts.get(id) ?? EMPTY_INDEX;
      const current = next ?? EMPTY_INDEX;
      if (previous === current) continue;
      if (next === null) this.parts.delete(id);
      else this.parts.set(id, next);
      for (const [key, row] of current) {
        const old = previous.get(key);
        if (old === undefined || (old !== row && !this.sameRow(old, row))) changed.add(key);
      }
      for (const key of previous.keys()) if (!current.has(key)) changed.add(key);
    }
    return this.recombine(changed);
  }

  private recombine(keys: Iterable<string>): MergedDelta {
    const upserted: Entry[] = [];
    const removed: Entry[] = [];
    for (const key of keys) {
      const row = this.combine(key);
      const old = this.entries.get(key);
      if (row === null) {
        if (old) {
          this.remove(old);
          removed.push(old);
        }
        continue;
      }
      if (old) {
        if (this.sameRow(old.row, row)) continue;
        old.row = row;
        old.final = Object.freeze(finalizeRow(this.spec, row));
        this.buckets.get(old.windowStart)!.json = null;
        upserted.push(old);
      } else {
        const entry = this.makeEntry(key, row);
        this.insert(entry);
        upserted.push(entry);
      }
    }
    return this.delta(upserted, removed);
  }

  /** Bumps the version when something changed; the rows in answer order (entries know their window and dimensions). */
  private delta(upserted: Entry[], removed: Entry[]): MergedDelta {
    if (upserted.length > 0 || removed.length > 0) this.version++;
    return {
      upserted: upserted.sort(compareRows).map((e) => e.final),
      removed: removed.sort(compareRows).map((e) => this.keyOnly(e)),
    };
  }

  /** The merged row of a key over every component, or null when no component has it. */
  private combine(key: string): ViewRow | null {
    let first: ViewRow | undefined = this.batch.get(key);
    let parts: MeasurePart[] | null = null;
    for (const index of this.parts.values()) {
      const row = index.get(key);
      if (!row) continue;
      if (!first) {
        first = row;
        continue;
      }
      if (!parts) parts = this.partsOf(first);
      for (let i = 0; i < parts.length; i++) {
        const m = this.spec.measures[i]!;
        parts[i] = this.monoids[i]!.combine(parts[i]!, row.parts[m.name] ?? this.monoids[i]!.empty());
      }
    }
    if (!first) return null;
    if (!parts) return first;
    const named: Record<string, MeasurePart> = {};
    this.spec.measures.forEach((m, i) => (named[m.name] = parts![i]!));
    return { windowStart: first.windowStart, dims: first.dims, parts: named };
  }

  private partsOf(row: ViewRow): MeasurePart[] {
    return this.spec.measures.map((m, i) => row.parts[m.name] ?? this.monoids[i]!.empty());
  }

  private sameRow(a: ViewRow, b: ViewRow): boolean {
    if (a === b) return true;
    for (let i = 0; i < this.spec.measures.length; i++) {
      const name = this.spec.measures[i]!.name;
      const x = a.parts[name], y = b.parts[name];
      if (x === y) continue;
      if (!x || !y || !samePart(x, y)) return false;
    }
    return true;
  }

  private makeEntry(key: string, row: ViewRow): Entry {
    return { key, windowStart: row.windowStart, dims: row.dims, row, final: Object.freeze(finalizeRow(this.spec, row)) };
  }

  private keyOnly(entry: Entry): FinalRow {
    const out: FinalRow = { window_start: entry.final.window_start ?? null };
    for (const d of this.spec.dimensions) out[d] = entry.final[d] ?? null;
    return out;
  }

  private insert(entry: Entry): void {
    this.entries.set(entry.key, entry);
    let bucket = this.buckets.get(entry.windowStart);
    if (!bucket) {
      bucket = { entries: new Map(), sorted: null, json: null };
      this.buckets.set(entry.windowStart, bucket);
      this.windowStarts = null;
    }
    bucket.entries.set(entry.key, entry);
    bucket.sorted = null;
    bucket.json = null;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    const bucket = this.buckets.get(entry.windowStart);
    if (!bucket) return;
    bucket.entries.delete(entry.key);
    bucket.sorted = null;
    bucket.json = null;
    if (bucket.entries.size === 0) {
      this.buckets.delete(entry.windowStart);
      this.windowStarts = null;
    }
  }

  private starts(): number[] {
    if (!this.windowStarts) this.windowStarts = [...this.buckets.keys()].sort((a, b) => a - b);
    return this.windowStarts;
  }

  /** Rows matching the query, ordered by window then dimensions, at most `limit`. */
  select(query: Pick<NormalizedQuery, 'from' | 'to' | 'filters' | 'limit'>): { rows: FinalRow[]; truncated: boolean } {
    const starts = this.starts();
    let i = query.from === null ? 0 : lowerBound(starts, query.from);
    const end = query.to === null ? starts.length : lowerBound(starts, query.to);
    const rows: FinalRow[] = [];
    const filters = query.filters;
    for (; i < end; i++) {
      const bucket = this.buckets.get(starts[i]!)!;
      if (!bucket.sorted) bucket.sorted = [...bucket.entries.values()].sort(compareRows);
      for (const entry of bucket.sorted) {
        let ok = true;
        for (const f of filters) {
          if (!f.values.has(entry.dims[f.index] ?? null)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (rows.length === query.limit) return { rows, truncated: true };
        rows.push(entry.final);
      }
    }
    return { rows, truncated: false };
  }

  /**
   * `select` as JSON text (`[...]`). Without dimension filters, each window's
   * rows are serialised once and reused until a row of that window changes,
   * so a speed update re-serialises only the windows it touched.
   */
  selectJson(query: Pick<NormalizedQuery, 'from' | 'to' | 'filters' | 'limit'>): { json: string; truncated: boolean; count: number } {
    if (query.filters.length > 0) {
      const { rows, truncated } = this.select(query);
      return { json: JSON.stringify(rows), truncated, count: rows.length };
    }
    const starts = this.starts();
    let i = query.from === null ? 0 : lowerBound(starts, query.from);
    const end = query.to === null ? starts.length : lowerBound(starts, query.to);
    const parts: string[] = [];
    let count = 0;
    for (; i < end; i++) {
      const bucket = this.buckets.get(starts[i]!)!;
      if (!bucket.sorted) bucket.sorted = [...bucket.entries.values()].sort(compareRows);
      const room = query.limit - count;
      if (bucket.sorted.length > room) {
        if (room > 0) parts.push(bucket.sorted.slice(0, room).map((e) => JSON.stringify(e.final)).join(','));
        return { json: `[${parts.join(',')}]`, truncated: true, count: query.limit };
      }
      bucket.json ??= bucket.sorted.map((e) => JSON.stringify(e.final)).join(',');
      parts.push(bucket.json);
      count += bucket.sorted.length;
    }
    return { json: `[${parts.join(',')}]`, truncated: false, count };
  }

  /** Every merged row as monoid parts, in answer order (for tests and exports). */
  rows(): ViewRow[] {
    return [...this.entries.values()].map((e) => e.row).sort(compareRows);
  }

  /** Whether a final row passes a query's range and filters (used to filter change events). */
  static matches(spec: ResolvedViewSpec, query: Pick<NormalizedQuery, 'from' | 'to' | 'filters'>, row: FinalRow): boolean {
    if (query.from !== null || query.to !== null) {
      const start = Date.parse(row.window_start as string);
      if (query.from !== null && start < query.from) return false;
      if (query.to !== null && start >= query.to) return false;
    }
    for (const f of query.filters) if (!f.values.has(row[spec.dimensions[f.index]!] ?? null)) return false;
    return true;
  }
}

/** Final rows (e.g. coalesced from several changes) in answer order: core `compareRows` on their window and dimensions. */
export function sortFinalRows(dimensions: readonly string[], rows: readonly FinalRow[]): FinalRow[] {
  return rows
    .map((row) => ({ windowStart: Date.parse(row.window_start as string), dims: dimensions.map((d) => row[d] ?? null), row }))
    .sort(compareRows)
    .map((keyed) => keyed.row);
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
