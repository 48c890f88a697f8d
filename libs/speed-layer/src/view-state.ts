/**
 * The incremental fold of one view over one partition.
 *
 * Equivalent to core's `ViewAccumulator` (same rows, same parts, same
 * floating-point operations in the same order), but shaped for the hot path
 * and for publishing:
 *
 * - cells are grouped by window (`Bucket`), so evicting old windows is a map
 *   delete and the sorted row list can be rebuilt bucket by bucket;
 * - dimensions are looked up through nested `Map`s keyed by the raw values, so
 *   folding an event allocates nothing once its cell exists;
 * - measure parts live in one `Float64Array` per cell (NaN = null for min/max)
 *   and become immutable `ViewRow`s only when flushed, once per changed cell.
 */
import { compareRows, rowKey, type DimensionValue, type LambdaEvent, type MeasurePart, type ResolvedViewSpec, type ViewRow } from '@lambdaline/core';

const OP_COUNT = 0;
const OP_SUM = 1;
const OP_MIN = 2;
const OP_MAX = 3;
const OP_AVG = 4;
const OP_CODES = { count: OP_COUNT, sum: OP_SUM, min: OP_MIN, max: OP_MAX, avg: OP_AVG } as const;

interface CompiledMeasure {
  readonly name: string;
  readonly op: number;
  /** Field read for the input; undefined = every event contributes 1 (count). */
  readonly field: string | undefined;
  /** Index of the first slot of this measure in a cell's array. */
  readonly slot: number;
}

export class Cell {
  readonly dims: DimensionValue[];
  readonly acc: Float64Array;
  /** The immutable row published at the last flush; null if never flushed. */
  row: ViewRow | null = null;
  dirty = false;
  evicted = false;
  private keyText: string | null = null;

  constructor(
    readonly windowStart: number,
    dims: DimensionValue[],
    slots: number,
    init: Float64Array,
  ) {
    this.dims = dims;
    this.acc = new Float64Array(slots);
    this.acc.set(init);
  }

  get key(): string {
    return (this.keyText ??= rowKey(this.windowStart, this.dims));
  }
}

class Bucket {
  /** Nested maps, one level per dimension; the last level maps to cells. */
  readonly root = new Map<DimensionValue, unknown>();
  single: Cell | null = null;
  readonly cells: Cell[] = [];
  /** Rows of this window ordered by dimensions, as of the last flush; null = rebuild. */
  rows: ViewRow[] | null = null;
  sorted = true;

  constructor(readonly windowStart: number) {}
}

export interface ViewFlush {
  /** Rows created or changed since the previous flush (new immutable objects). */
  readonly upserts: ViewRow[];
  /** Row keys (core `rowKey`) of published rows evicted since the previous flush. */
  readonly removed: string[];
}

export class ViewState {
  readonly spec: ResolvedViewSpec;
  readonly windowMs: number;
  private readonly measures: CompiledMeasure[];
  private readonly slots: number;
  private readonly emptyAcc: Float64Array;
  private readonly dims: readonly string[];
  private readonly buckets = new Map<number, Bucket>();
  private sortedBuckets: Bucket[] | null = [];
  private last: Bucket | null = null;
  private dirtyCells: Cell[] = [];
  private removedKeys: string[] = [];
  private rowsCache: ViewRow[] | null = [];
  private cellCount = 0;

  constructor(spec: ResolvedViewSpec) {
    this.spec = spec;
    this.windowMs = spec.windowMs;
    this.dims = spec.dimensions;
    let slot = 0;
    this.measures = spec.measures.map((m) => {
      const compiled = { name: m.name, op: OP_CODES[m.op], field: m.field, slot };
      slot += m.op === 'avg' ? 2 : 1;
      return compiled;
    });
    this.slots = slot;
    this.emptyAcc = new Float64Array(slot);
    for (const m of this.measures) if (m.op === OP_MIN || m.op === OP_MAX) this.emptyAcc[m.slot] = Number.NaN;
  }

  /** Number of rows (cells) held. */
  get size(): number {
    return this.cellCount;
  }

  /** Folds one valid event with its event time (epoch ms). */
  add(event: LambdaEvent, eventTime: number): void {
    const w = this.windowMs;
    const windowStart = Math.floor(eventTime / w) * w;
    let bucket = this.last;
    if (bucket === null || bucket.windowStart !== windowStart) {
      bucket = this.buckets.get(windowStart) ?? this.newBucket(windowStart);
      this.last = bucket;
    }
    const cell = this.cellFor(bucket, event);
    const acc = cell.acc;
    const measures = this.measures;
    for (let i = 0; i < measures.length; i++) {
      const m = measures[i]!;
      let value: number;
      if (m.field === undefined) value = 1;
      else {
        const raw = event[m.field];
        if (typeof raw === 'number') value = raw;
        else if (raw === null || raw === undefined) continue; // null contributes the identity
        else value = 1;
      }
      const s = m.slot;
      switch (m.op) {
        case OP_COUNT:
          acc[s] = acc[s]! + 1;
          break;
        case OP_SUM:
          acc[s] = acc[s]! + value;
          break;
        case OP_MIN: {
          const cur = acc[s]!;
          acc[s] = cur !== cur ? value : Math.min(cur, value);
          break;
        }
        case OP_MAX: {
          const cur = acc[s]!;
          acc[s] = cur !== cur ? value : Math.max(cur, value);
          break;
        }
        case OP_AVG:
          acc[s] = acc[s]! + value;
          acc[s + 1] = acc[s + 1]! + 1;
          break;
      }
    }
    if (!cell.dirty) {
      cell.dirty = true;
      this.dirtyCells.push(cell);
    }
  }

  /**
   * Drops every window whose end is at or before `end` (exclusive window end
   * ≤ end). Returns how many rows were dropped.
   */
  evictWindowsEndingBy(end: number): number {
    let dropped = 0;
    for (const [start, bucket] of this.buckets) {
      if (start + this.windowMs > end) continue;
      this.buckets.delete(start);
      for (const cell of bucket.cells) {
        cell.evicted = true;
        if (cell.row !== null) this.removedKeys.push(cell.key);
      }
      dropped += bucket.cells.length;
      this.cellCount -= bucket.cells.length;
      if (this.last === bucket) this.last = null;
      this.sortedBuckets = null;
      this.rowsCache = null;
    }
    return dropped;
  }

  /** The earliest window start held, or null when empty. */
  earliestWindow(): number | null {
    let min: number | null = null;
    for (const start of this.buckets.keys()) if (min === null || start < min) min = start;
    return min;
  }

  get hasPendingChanges(): boolean {
    return this.dirtyCells.length > 0 || this.removedKeys.length > 0;
  }

  /** Turns changed cells into new immutable rows; returns what changed since the last flush. */
  flush(): ViewFlush {
    const upserts: ViewRow[] = [];
    for (const cell of this.dirtyCells) {
      cell.dirty = false;
      if (cell.evicted) continue;
      cell.row = this.toRow(cell);
      upserts.push(cell.row);
    }
    if (this.dirtyCells.length > 0) {
      this.rowsCache = null;
      for (const cell of this.dirtyCells) {
        const bucket = this.buckets.get(cell.windowStart);
        if (bucket) bucket.rows = null;
      }
    }
    this.dirtyCells = [];
    const removed = this.removedKeys;
    this.removedKeys = [];
    return { upserts, removed };
  }

  /**
   * All rows as of the last flush, ordered by window then dimensions. The
   * array is shared and immutable: callers must not modify it. Call `flush()`
   * first for the current state.
   */
  rows(): readonly ViewRow[] {
    if (this.rowsCache !== null) return this.rowsCache;
    if (this.sortedBuckets === null) this.sortedBuckets = [...this.buckets.values()].sort((a, b) => a.windowStart - b.windowStart);
    const out: ViewRow[] = [];
    for (const bucket of this.sortedBuckets) {
      if (bucket.rows === null) {
        if (!bucket.sorted) {
          bucket.cells.sort(compareRows);
          bucket.sorted = true;
        }
        bucket.rows = [];
        for (const cell of bucket.cells) if (cell.row !== null) bucket.rows.push(cell.row);
      }
      for (const row of bucket.rows) out.push(row);
    }
    this.rowsCache = out;
    return out;
  }

  clear(): void {
    this.buckets.clear();
    this.sortedBuckets = [];
    this.last = null;
    this.dirtyCells = [];
    this.removedKeys = [];
    this.rowsCache = [];
    this.cellCount = 0;
  }

  private newBucket(windowStart: number): Bucket {
    const bucket = new Bucket(windowStart);
    this.buckets.set(windowStart, bucket);
    this.sortedBuckets = null;
    this.rowsCache = null;
    return bucket;
  }

  private cellFor(bucket: Bucket, event: LambdaEvent): Cell {
    const dims = this.dims;
    const n = dims.length;
    if (n === 0) return (bucket.single ??= this.newCell(bucket, []));
    let map = bucket.root;
    for (let i = 0; i < n - 1; i++) {
      const value = event[dims[i]!] ?? null;
      let next = map.get(value) as Map<DimensionValue, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        map.set(value, next);
      }
      map = next;
    }
    const lastValue = event[dims[n - 1]!] ?? null;
    let cell = map.get(lastValue) as Cell | undefined;
    if (cell === undefined) {
      cell = this.newCell(bucket, dims.map((d) => event[d] ?? null));
      map.set(lastValue, cell);
    }
    return cell;
  }

  private newCell(bucket: Bucket, dims: DimensionValue[]): Cell {
    const cell = new Cell(bucket.windowStart, dims, this.slots, this.emptyAcc);
    const cells = bucket.cells;
    if (cells.length > 0 && compareRows(cells[cells.length - 1]!, cell) > 0) bucket.sorted = false;
    cells.push(cell);
    bucket.rows = null;
    this.rowsCache = null;
    this.cellCount++;
    return cell;
  }

  private toRow(cell: Cell): ViewRow {
    const parts: Record<string, MeasurePart> = {};
    const acc = cell.acc;
    for (const m of this.measures) {
      const v = acc[m.slot]!;
      switch (m.op) {
        case OP_COUNT:
          parts[m.name] = { count: v };
          break;
        case OP_SUM:
          parts[m.name] = { sum: v };
          break;
        case OP_MIN:
          parts[m.name] = { min: v !== v ? null : v };
          break;
        case OP_MAX:
          parts[m.name] = { max: v !== v ? null : v };
          break;
        case OP_AVG:
          parts[m.name] = { sum: v, count: acc[m.slot + 1]! };
          break;
      }
    }
    return { windowStart: cell.windowStart, dims: cell.dims, parts };
  }
}
