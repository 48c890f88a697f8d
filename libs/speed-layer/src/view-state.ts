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
 * - measure parts live in one array of doubles per cell (NaN = null for
 *   min/max; a plain packed-double array is less than half the memory of a
 *   `Float64Array` and quicker to allocate) and become immutable `ViewRow`s
 *   only when flushed, once per changed cell;
 * - the per-event `add` and the per-flush `toRow` are generated from the spec
 *   (see `compileAdd`), with the generic versions as fallback and reference.
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
  /** Measure slots, packed doubles (never holes or non-numbers: one elements kind for every cell). */
  readonly acc: number[];
  /** The immutable row published at the last flush; null if never flushed. */
  row: ViewRow | null = null;
  dirty = false;
  evicted = false;
  private keyText: string | null = null;

  constructor(
    readonly windowStart: number,
    dims: DimensionValue[],
    init: readonly number[],
  ) {
    this.dims = dims;
    this.acc = init.slice();
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
  private readonly emptyAcc: number[];
  private readonly dims: readonly string[];
  private readonly buckets = new Map<number, Bucket>();
  private sortedBuckets: Bucket[] | null = [];
  /** The bucket of the previous event, and the one before it (event times jitter across a window boundary). */
  private last: Bucket | null = null;
  private prev: Bucket | null = null;
  private dirtyCells: Cell[] = [];
  private removedKeys: string[] = [];
  private rowsCache: ViewRow[] | null = [];
  private cellCount = 0;

  /** `codegen: false` keeps the generic code (tests compare both). */
  constructor(spec: ResolvedViewSpec, codegen = true) {
    this.spec = spec;
    this.windowMs = spec.windowMs;
    this.dims = spec.dimensions;
    let slot = 0;
    this.measures = spec.measures.map((m) => {
      const compiled = { name: m.name, op: OP_CODES[m.op], field: m.field, slot };
      slot += m.op === 'avg' ? 2 : 1;
      return compiled;
    });
    // Made of doubles from the start (0.5, then the real initial values) so that every
    // cell's copy is PACKED_DOUBLE_ELEMENTS and never transitions on its first update.
    const empty: number[] = [];
    for (let i = 0; i < slot; i++) empty.push(0.5);
    for (let i = 0; i < slot; i++) empty[i] = 0;
    for (const m of this.measures) if (m.op === OP_MIN || m.op === OP_MAX) empty[m.slot] = Number.NaN;
    this.emptyAcc = empty;
    if (codegen) {
      const add = compileAdd(spec, this.measures);
      if (add !== null) this.add = add;
      const toRow = compileToRow(this.measures);
      if (toRow !== null) this.toRow = toRow;
    }
  }

  /** Number of rows (cells) held. */
  get size(): number {
    return this.cellCount;
  }

  /**
   * Folds one valid event with its event time (epoch ms). Replaced per instance
   * by code generated from the spec (`compileAdd`) when code generation is
   * available; this generic version is the fallback and the reference.
   */
  add(event: LambdaEvent, eventTime: number): void {
    this.addGeneric(event, eventTime);
  }

  /** The generic fold of one event (what the generated `add` does, field names as data). */
  addGeneric(event: LambdaEvent, eventTime: number): void {
    const w = this.windowMs;
    const windowStart = Math.floor(eventTime / w) * w;
    let bucket = this.last;
    if (bucket === null || bucket.windowStart !== windowStart) {
      const other = this.prev;
      this.prev = bucket;
      bucket = other !== null && other.windowStart === windowStart ? other : (this.buckets.get(windowStart) ?? this.newBucket(windowStart));
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
      if (this.prev === bucket) this.prev = null;
      this.sortedBuckets = null;
      this.rowsCache = null;
    }
    return dropped;
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
    const cell = new Cell(bucket.windowStart, dims, this.emptyAcc);
    const cells = bucket.cells;
    if (cells.length > 0 && compareRows(cells[cells.length - 1]!, cell) > 0) bucket.sorted = false;
    cells.push(cell);
    bucket.rows = null;
    this.rowsCache = null;
    this.cellCount++;
    return cell;
  }

  /** The immutable row of a cell's current values (replaced by generated code, see `compileToRow`). */
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

/**
 * The hot path of `ViewState.add`, generated from the spec: the same steps
 * and the same floating-point operations in the same order as `addGeneric`,
 * but with the field names, window length and measure ops written into the
 * code. The generic version reads `event[m.field]` with a different name at
 * the same place for every measure and dimension (megamorphic keyed loads)
 * and dispatches on the op per measure; this one is straight-line code with
 * monomorphic named loads. Returns null where code generation is not allowed
 * (e.g. a CSP): `addGeneric` is used then.
 */
function compileAdd(spec: ResolvedViewSpec, measures: readonly CompiledMeasure[]): ((event: LambdaEvent, eventTime: number) => void) | null {
  const field = (name: string) => `event[${JSON.stringify(name)}]`;
  const w = spec.windowMs;
  if (!Number.isSafeInteger(w) || w <= 0) return null;
  const lines: string[] = [
    `var windowStart = Math.floor(eventTime / ${w}) * ${w};`,
    'var bucket = this.last, other;',
    'if (bucket === null || bucket.windowStart !== windowStart) {',
    '  other = this.prev;',
    '  this.prev = bucket;',
    '  if (other !== null && other.windowStart === windowStart) bucket = other;',
    '  else {',
    '    bucket = this.buckets.get(windowStart);',
    '    if (bucket === undefined) bucket = this.newBucket(windowStart);',
    '  }',
    '  this.last = bucket;',
    '}',
    'var cell;',
  ];
  const dims = spec.dimensions;
  if (dims.length === 0) {
    lines.push('cell = bucket.single;', 'if (cell === null) cell = bucket.single = this.newCell(bucket, []);');
  } else {
    // `?? null`, as cellFor: an absent or null dimension is the key null.
    dims.forEach((d, i) => lines.push(`var k${i} = ${field(d)};`, `if (k${i} === undefined) k${i} = null;`));
    lines.push('var map = bucket.root, next;');
    for (let i = 0; i < dims.length - 1; i++) {
      lines.push(`next = map.get(k${i});`, 'if (next === undefined) { next = new Map(); map.set(k' + i + ', next); }', 'map = next;');
    }
    const last = `k${dims.length - 1}`;
    lines.push(
      `cell = map.get(${last});`,
      `if (cell === undefined) { cell = this.newCell(bucket, [${dims.map((_, i) => `k${i}`).join(', ')}]); map.set(${last}, cell); }`,
    );
  }
  lines.push('var acc = cell.acc, raw, value, cur;');
  for (const m of measures) {
    const s = m.slot;
    let update: string;
    switch (m.op) {
      case OP_COUNT:
        update = `acc[${s}] = acc[${s}] + 1;`;
        break;
      case OP_SUM:
        update = `acc[${s}] = acc[${s}] + value;`;
        break;
      case OP_MIN:
        update = `cur = acc[${s}]; acc[${s}] = cur !== cur ? value : Math.min(cur, value);`;
        break;
      case OP_MAX:
        update = `cur = acc[${s}]; acc[${s}] = cur !== cur ? value : Math.max(cur, value);`;
        break;
      case OP_AVG:
        update = `acc[${s}] = acc[${s}] + value; acc[${s + 1}] = acc[${s + 1}] + 1;`;
        break;
      default:
        return null;
    }
    if (m.field === undefined) {
      lines.push('value = 1;', update);
    } else {
      // A number is its value, null/absent contributes the identity (skipped), anything else counts as 1.
      lines.push(`raw = ${field(m.field)};`, `if (raw !== null && raw !== undefined) { value = typeof raw === 'number' ? raw : 1; ${update} }`);
    }
  }
  lines.push('if (!cell.dirty) { cell.dirty = true; this.dirtyCells.push(cell); }');
  return generated(`return function add(event, eventTime) {\n${lines.join('\n')}\n};`) as ((event: LambdaEvent, eventTime: number) => void) | null;
}

/**
 * Generated functions by source text. Every partition (and every new epoch)
 * of a view shares one function, so V8 optimises it once with the feedback of
 * all of them, instead of warming up a fresh copy in the interpreter each time.
 */
const generatedCache = new Map<string, unknown>();

function generated(source: string): unknown {
  let fn = generatedCache.get(source);
  if (fn === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a validated view spec only
      fn = new Function(source)() as unknown;
    } catch {
      fn = null; // no code generation here (e.g. a CSP): the generic code is used
    }
    generatedCache.set(source, fn);
  }
  return fn;
}

/**
 * `toRow` generated for the measures: one object literal per row and per
 * part (fixed shapes, allocated in one go), the same keys in the same order
 * and the same values as the generic `toRow`.
 */
function compileToRow(measures: readonly CompiledMeasure[]): ((cell: Cell) => ViewRow) | null {
  const parts: string[] = [];
  for (const m of measures) {
    const s = m.slot;
    const key = JSON.stringify(m.name);
    switch (m.op) {
      case OP_COUNT:
        parts.push(`${key}: { count: acc[${s}] }`);
        break;
      case OP_SUM:
        parts.push(`${key}: { sum: acc[${s}] }`);
        break;
      case OP_MIN:
        parts.push(`${key}: { min: acc[${s}] !== acc[${s}] ? null : acc[${s}] }`);
        break;
      case OP_MAX:
        parts.push(`${key}: { max: acc[${s}] !== acc[${s}] ? null : acc[${s}] }`);
        break;
      case OP_AVG:
        parts.push(`${key}: { sum: acc[${s}], count: acc[${s + 1}] }`);
        break;
      default:
        return null;
    }
  }
  return generated(
    `return function toRow(cell) {\nvar acc = cell.acc;\nreturn { windowStart: cell.windowStart, dims: cell.dims, parts: { ${parts.join(', ')} } };\n};`,
  ) as ((cell: Cell) => ViewRow) | null;
}
