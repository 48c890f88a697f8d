/**
 * View rows: one per (window, dimension values), holding measure *parts*.
 * This is the shape every layer exchanges; only the serving layer finalises
 * parts into numbers (`finalizeRow`).
 */
import type { LambdaEvent } from './event-schema.js';
import { measureMonoid, type MeasurePart, type Monoid } from './measures.js';
import { formatTimestamp, parseTimestamp, windowStartOf } from './time.js';
import type { ResolvedViewSpec } from './view-spec.js';

export type DimensionValue = string | number | boolean | null;

export interface ViewRow {
  /** Window start, epoch ms UTC. */
  readonly windowStart: number;
  /** Dimension values in the spec's `dimensions` order. */
  readonly dims: readonly DimensionValue[];
  /** Measure name → part. */
  readonly parts: Readonly<Record<string, MeasurePart>>;
}

/** What a reader sees: `{ window_start, <dimensions>, <measures> }`. */
export type FinalRow = Record<string, string | number | boolean | null>;

/** Stable identity of a row within a view: window start and dimension values. */
export function rowKey(windowStart: number, dims: readonly DimensionValue[]): string {
  return dims.length === 0 ? String(windowStart) : `${windowStart}|${JSON.stringify(dims)}`;
}

type AnyMonoid = Monoid<MeasurePart>;
const monoidsOf = (spec: ResolvedViewSpec): AnyMonoid[] => spec.measures.map((m) => measureMonoid(m.op) as AnyMonoid);

/** Combines two rows with the same key. */
export function combineRows(spec: ResolvedViewSpec, a: ViewRow, b: ViewRow): ViewRow {
  const parts: Record<string, MeasurePart> = {};
  const monoids = monoidsOf(spec);
  spec.measures.forEach((m, i) => {
    const monoid = monoids[i]!;
    parts[m.name] = monoid.combine(a.parts[m.name] ?? monoid.empty(), b.parts[m.name] ?? monoid.empty());
  });
  return { windowStart: a.windowStart, dims: a.dims, parts };
}

/**
 * An incremental fold of events into view rows. Mutable on purpose: the speed
 * layer adds tens of thousands of events a second and allocating a new part
 * per event would dominate. Parts are kept in flat number arrays internally and
 * only turned into `ViewRow`s when read.
 */
export class ViewAccumulator {
  readonly spec: ResolvedViewSpec;
  private readonly monoids: AnyMonoid[];
  private readonly cells = new Map<string, { windowStart: number; dims: DimensionValue[]; parts: MeasurePart[] }>();

  constructor(spec: ResolvedViewSpec) {
    this.spec = spec;
    this.monoids = monoidsOf(spec);
  }

  get size(): number {
    return this.cells.size;
  }

  /** Folds one valid event. `eventTime` defaults to parsing the spec's time field. */
  add(event: LambdaEvent, eventTime?: number): string {
    const time = eventTime ?? eventTimeOf(this.spec, event);
    const windowStart = windowStartOf(time, this.spec.windowMs);
    const dims = this.spec.dimensions.map((d) => event[d] ?? null);
    const key = rowKey(windowStart, dims);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { windowStart, dims, parts: this.monoids.map((m) => m.empty()) };
      this.cells.set(key, cell);
    }
    const measures = this.spec.measures;
    for (let i = 0; i < measures.length; i++) {
      const measure = measures[i]!;
      const raw = measure.field === undefined ? 1 : event[measure.field];
      const value = typeof raw === 'number' ? raw : raw === null || raw === undefined ? null : 1;
      cell.parts[i] = this.monoids[i]!.combine(cell.parts[i]!, this.monoids[i]!.of(value));
    }
    return key;
  }

  /** Combines an already-aggregated row (e.g. from another partition or layer). */
  addRow(row: ViewRow): void {
    const key = rowKey(row.windowStart, row.dims);
    const cell = this.cells.get(key);
    const incoming = this.spec.measures.map((m, i) => row.parts[m.name] ?? this.monoids[i]!.empty());
    if (!cell) {
      this.cells.set(key, { windowStart: row.windowStart, dims: [...row.dims], parts: incoming });
      return;
    }
    for (let i = 0; i < incoming.length; i++) cell.parts[i] = this.monoids[i]!.combine(cell.parts[i]!, incoming[i]!);
  }

  /** Removes every row whose window starts before `windowStart`; returns their keys. */
  evictBefore(windowStart: number): string[] {
    const evicted: string[] = [];
    for (const [key, cell] of this.cells) {
      if (cell.windowStart < windowStart) {
        this.cells.delete(key);
        evicted.push(key);
      }
    }
    return evicted;
  }

  get(key: string): ViewRow | undefined {
    const cell = this.cells.get(key);
    return cell && this.toRow(cell);
  }

  has(key: string): boolean {
    return this.cells.has(key);
  }

  keys(): IterableIterator<string> {
    return this.cells.keys();
  }

  /** All rows, ordered by window then dimensions. */
  rows(): ViewRow[] {
    return sortRows([...this.cells.values()].map((cell) => this.toRow(cell)));
  }

  clear(): void {
    this.cells.clear();
  }

  private toRow(cell: { windowStart: number; dims: DimensionValue[]; parts: MeasurePart[] }): ViewRow {
    const parts: Record<string, MeasurePart> = {};
    this.spec.measures.forEach((m, i) => {
      parts[m.name] = cell.parts[i]!;
    });
    return { windowStart: cell.windowStart, dims: [...cell.dims], parts };
  }
}

/** The event time (epoch ms) of a validated event for this view. */
export function eventTimeOf(spec: ResolvedViewSpec, event: LambdaEvent): number {
  const value = event[spec.timeField];
  const parsed = typeof value === 'string' ? parseTimestamp(value) : Number.NaN;
  if (typeof parsed !== 'number' || Number.isNaN(parsed)) {
    throw new TypeError(`${spec.timeField}: ${JSON.stringify(value)} is not a timestamp (was the event validated?)`);
  }
  return parsed;
}

/** The reference fold: the view over a list of valid events, from scratch. */
export function foldEvents(spec: ResolvedViewSpec, events: Iterable<LambdaEvent>): ViewRow[] {
  const acc = new ViewAccumulator(spec);
  for (const event of events) acc.add(event);
  return acc.rows();
}

/** Combines any number of row lists (e.g. batch rows and speed rows) key by key. */
export function mergeViewRows(spec: ResolvedViewSpec, ...lists: ReadonlyArray<readonly ViewRow[]>): ViewRow[] {
  const acc = new ViewAccumulator(spec);
  for (const list of lists) for (const row of list) acc.addRow(row);
  return acc.rows();
}

function compareDim(a: DimensionValue, b: DimensionValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Window first, then dimensions in spec order: the order answers are given in. */
export function compareRows(a: Pick<ViewRow, 'windowStart' | 'dims'>, b: Pick<ViewRow, 'windowStart' | 'dims'>): number {
  if (a.windowStart !== b.windowStart) return a.windowStart - b.windowStart;
  for (let i = 0; i < a.dims.length; i++) {
    const c = compareDim(a.dims[i] ?? null, b.dims[i] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}

export function sortRows<T extends Pick<ViewRow, 'windowStart' | 'dims'>>(rows: T[]): T[] {
  return rows.sort(compareRows);
}

/** Turns parts into the numbers a reader wants (avg = sum / count). */
export function finalizeRow(spec: ResolvedViewSpec, row: ViewRow): FinalRow {
  const out: FinalRow = { window_start: formatTimestamp(row.windowStart) };
  spec.dimensions.forEach((d, i) => {
    out[d] = row.dims[i] ?? null;
  });
  spec.measures.forEach((m) => {
    const monoid = measureMonoid(m.op) as AnyMonoid;
    out[m.name] = monoid.finalize(row.parts[m.name] ?? monoid.empty());
  });
  return out;
}

export interface RowDifference {
  readonly key: string;
  readonly measure?: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/**
 * Compares two views key by key. Counts, minima and maxima must match exactly;
 * sums may differ by `relativeTolerance` because floating-point addition is not
 * associative, so two correct folds in a different order can differ in the
 * last bits. Returns the differences (empty = equal); tests print them.
 */
export function diffViewRows(
  spec: ResolvedViewSpec,
  expected: readonly ViewRow[],
  actual: readonly ViewRow[],
  relativeTolerance = 1e-9,
): RowDifference[] {
  const differences: RowDifference[] = [];
  const byKey = (rows: readonly ViewRow[]) => new Map(rows.map((r) => [rowKey(r.windowStart, r.dims), r] as const));
  const want = byKey(expected);
  const got = byKey(actual);
  for (const [key, row] of want) {
    const other = got.get(key);
    if (!other) {
      differences.push({ key, expected: row.parts, actual: undefined });
      continue;
    }
    for (const m of spec.measures) {
      const a = row.parts[m.name] as unknown as Record<string, number | null>;
      const b = other.parts[m.name] as unknown as Record<string, number | null> | undefined;
      const same = b !== undefined && Object.keys(a).every((field) => {
        const x = a[field] ?? null, y = b[field] ?? null;
        if (x === null || y === null) return x === y;
        if (field === 'sum') return Math.abs(x - y) <= relativeTolerance * Math.max(1, Math.abs(x), Math.abs(y));
        return x === y;
      });
      if (!same) differences.push({ key, measure: m.name, expected: a, actual: b });
    }
  }
  for (const [key, row] of got) if (!want.has(key)) differences.push({ key, expected: undefined, actual: row.parts });
  return differences;
}
