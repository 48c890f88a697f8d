/**
 * Measures as monoids. Each measure is kept as a *part* (the monoid element)
 * until someone reads it; only then is it finalised to a number. That is what
 * lets the batch layer, the speed layer and any split of the events agree:
 * combine(fold(a), fold(b)) = fold(a ++ b) for every split, and `empty()` is
 * the identity. `avg` is carried as sum + count because averages of averages
 * are wrong.
 */
export type MeasureOp = 'count' | 'sum' | 'min' | 'max' | 'avg';
export const MEASURE_OPS: readonly MeasureOp[] = ['count', 'sum', 'min', 'max', 'avg'];

export interface CountPart { readonly count: number }
export interface SumPart { readonly sum: number }
export interface MinPart { readonly min: number | null }
export interface MaxPart { readonly max: number | null }
export interface AvgPart { readonly sum: number; readonly count: number }

export interface PartOf {
  count: CountPart;
  sum: SumPart;
  min: MinPart;
  max: MaxPart;
  avg: AvgPart;
}
export type MeasurePart = PartOf[MeasureOp];

export interface Monoid<P> {
  /** The identity: combining with it changes nothing. */
  empty(): P;
  /** Associative; also commutative for every lambdaline measure. */
  combine(a: P, b: P): P;
  /** The part of one input value (`null` = the field is absent). */
  of(value: number | null): P;
  /** The number a reader sees; `null` when nothing contributed (min of nothing). */
  finalize(part: P): number | null;
}

const countMonoid: Monoid<CountPart> = {
  empty: () => ({ count: 0 }),
  combine: (a, b) => ({ count: a.count + b.count }),
  of: (value) => ({ count: value === null ? 0 : 1 }),
  finalize: (p) => p.count,
};

const sumMonoid: Monoid<SumPart> = {
  empty: () => ({ sum: 0 }),
  combine: (a, b) => ({ sum: a.sum + b.sum }),
  of: (value) => ({ sum: value ?? 0 }),
  finalize: (p) => p.sum,
};

const minMonoid: Monoid<MinPart> = {
  empty: () => ({ min: null }),
  combine: (a, b) => ({ min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min) }),
  of: (value) => ({ min: value }),
  finalize: (p) => p.min,
};

const maxMonoid: Monoid<MaxPart> = {
  empty: () => ({ max: null }),
  combine: (a, b) => ({ max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max) }),
  of: (value) => ({ max: value }),
  finalize: (p) => p.max,
};

const avgMonoid: Monoid<AvgPart> = {
  empty: () => ({ sum: 0, count: 0 }),
  combine: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
  of: (value) => (value === null ? { sum: 0, count: 0 } : { sum: value, count: 1 }),
  finalize: (p) => (p.count === 0 ? null : p.sum / p.count),
};

const MONOIDS: { [K in MeasureOp]: Monoid<PartOf[K]> } = {
  count: countMonoid,
  sum: sumMonoid,
  min: minMonoid,
  max: maxMonoid,
  avg: avgMonoid,
};

export function measureMonoid<K extends MeasureOp>(op: K): Monoid<PartOf[K]> {
  return MONOIDS[op];
}

/**
 * Whether a part has the shape its op needs. Used when reading parts from disk
 * or from a topic, where a wrong shape must be an error, not a NaN.
 */
export function isPartOf(op: MeasureOp, part: unknown): part is MeasurePart {
  if (typeof part !== 'object' || part === null) return false;
  const p = part as Record<string, unknown>;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const numOrNull = (v: unknown) => v === null || num(v);
  switch (op) {
    case 'count': return num(p.count);
    case 'sum': return num(p.sum);
    case 'min': return numOrNull(p.min);
    case 'max': return numOrNull(p.max);
    case 'avg': return num(p.sum) && num(p.count);
  }
}
