/**
 * Compiles a `ViewSpec` to DuckDB SQL over master-dataset files. One generic
 * compiler, no SQL per view: time is bucketed as epoch-ms window starts,
 * dimensions are grouped by, and every measure is carried as its monoid part
 * (core `PartOf`) so the serving layer can combine batch rows with speed rows.
 *
 * The output rows are written by DuckDB straight into core's snapshot line
 * format, `{"w":<window start>,"d":[<dims>],"p":{<measure>:<part>}}`, ordered by
 * window then dimensions.
 */
import { DAY_MS, utcDay, windowStartOf, type MeasureSpec, type ResolvedViewSpec } from '@lambdaline/core';
import type { ColumnLayout } from './columns.js';
import { ident, lit, litList } from './sql.js';

/** DuckDB type of the part struct of one measure. */
function partType(measure: MeasureSpec): string {
  switch (measure.op) {
    case 'count':
      return 'STRUCT("count" BIGINT)';
    case 'sum':
      return 'STRUCT("sum" DOUBLE)';
    case 'min':
      return 'STRUCT("min" DOUBLE)';
    case 'max':
      return 'STRUCT("max" DOUBLE)';
    case 'avg':
      return 'STRUCT("sum" DOUBLE, "count" BIGINT)';
  }
}

/**
 * The aggregate expression building the part of one measure (same semantics as
 * core's monoids). Counting a required field is `count(*)`: it is never null,
 * and DuckDB computes identical aggregates once.
 */
function partExpr(measure: MeasureSpec, layout: ColumnLayout): string {
  const field = measure.field === undefined ? null : ident(measure.field);
  const required = measure.field !== undefined && layout.fields.find((f) => f.name === measure.field)?.required === true;
  const counted = field === null || required ? 'count(*)' : `count(${field})`;
  switch (measure.op) {
    case 'count':
      return `{'count': ${counted}}`;
    case 'sum':
      return `{'sum': coalesce(sum(${field}), 0)::DOUBLE}`;
    case 'min':
      return `{'min': min(${field})::DOUBLE}`;
    case 'max':
      return `{'max': max(${field})::DOUBLE}`;
    case 'avg':
      return `{'sum': coalesce(sum(${field}), 0)::DOUBLE, 'count': ${counted}}`;
  }
}

/** DuckDB type of the whole `p` struct of a view. */
export function partsType(spec: ResolvedViewSpec): string {
  return `STRUCT(${spec.measures.map((m) => `${ident(m.name)} ${partType(m)}`).join(', ')})`;
}

function partsExpr(spec: ResolvedViewSpec, layout: ColumnLayout): string {
  return `{${spec.measures.map((m) => `${lit(m.name)}: ${partExpr(m, layout)}`).join(', ')}}::${partsType(spec)}`;
}

/** `floor(epoch_ms(t) / W) * W`: the epoch-aligned window start in ms, as core's `windowStartOf`. */
export function windowExpr(spec: ResolvedViewSpec): string {
  return `(floor(epoch_ms(${ident(spec.timeField)}) / ${spec.windowMs}) * ${spec.windowMs})::BIGINT`;
}

function dimType(layout: ColumnLayout, field: string): string {
  const type = layout.fields.find((f) => f.name === field)?.type;
  if (!type) throw new Error(`dimension ${field} is not a column`);
  return type;
}

const dimAlias = (i: number) => `d${i}`;

/** Rows freshly aggregated from master-dataset files: columns w, d0..dn, p. */
export function aggregateSql(spec: ResolvedViewSpec, layout: ColumnLayout, files: readonly string[]): string {
  const dims = spec.dimensions.map((d, i) => `${ident(d)} AS ${dimAlias(i)}`);
  const groups = ['w', ...spec.dimensions.map((_, i) => dimAlias(i))];
  return `SELECT ${windowExpr(spec)} AS w${dims.map((d) => `, ${d}`).join('')}, ${partsExpr(spec, layout)} AS p
    FROM read_parquet(${litList(files)}, hive_partitioning = false)
    GROUP BY ${groups.join(', ')}`;
}

/** Rows of a previously published view file, typed back: columns w, d0..dn, p. */
export function previousRowsSql(spec: ResolvedViewSpec, layout: ColumnLayout, file: string, keep: string): string {
  const dims = spec.dimensions.map((d, i) => `(d->>${i})::${dimType(layout, d)} AS ${dimAlias(i)}`);
  return `SELECT w${dims.map((d) => `, ${d}`).join('')}, p
    FROM read_json(${lit(file)}, format = 'newline_delimited', columns = {'w': 'BIGINT', 'd': 'JSON', 'p': '${partsType(spec).replace(/'/g, "''")}'})
    WHERE ${keep}`;
}

/** Wraps row sources into the COPY that writes the view file in core's line format, ordered. */
export function copyViewSql(spec: ResolvedViewSpec, layout: ColumnLayout, sources: readonly string[], outFile: string): string {
  const dims = spec.dimensions.map((_, i) => dimAlias(i));
  const order = ['w', ...dims.map((d) => `${d} ASC NULLS FIRST`)].join(', ');
  // A LIST when every dimension has the same type (DuckDB writes it natively), a JSON array otherwise.
  const types = new Set(spec.dimensions.map((d) => dimType(layout, d)));
  const d = types.size <= 1 ? `[${dims.join(', ')}]` : `json_array(${dims.join(', ')})`;
  return `COPY (
    SELECT w, ${d} AS d, p
    FROM (${sources.map((s) => `(${s})`).join(' UNION ALL ')})
    ORDER BY ${order}
  ) TO ${lit(outFile)} (FORMAT json)`;
}

/**
 * Which windows a set of changed days touches. Windows up to a day lie inside
 * one day; longer windows (whole days) may span several, and then every day of
 * such a window must be re-read.
 */
export function affectedWindows(spec: ResolvedViewSpec, days: ReadonlySet<string>): {
  /** Days whose files must be aggregated again. */
  readonly readDays: Set<string>;
  /** SQL predicate on `w` keeping previous rows outside the affected windows. */
  readonly keep: string;
} {
  const dayStarts = [...days].map((d) => Date.parse(`${d}T00:00:00Z`)).sort((a, b) => a - b);
  if (spec.windowMs <= DAY_MS) {
    const dayIndexes = dayStarts.map((t) => t / DAY_MS);
    return {
      readDays: new Set(days),
      keep: dayIndexes.length === 0 ? 'true' : `floor(w / ${DAY_MS})::BIGINT NOT IN (${dayIndexes.join(', ')})`,
    };
  }
  const windows = [...new Set(dayStarts.map((t) => windowStartOf(t, spec.windowMs)))].sort((a, b) => a - b);
  const readDays = new Set<string>();
  for (const start of windows) {
    for (let t = start; t < start + spec.windowMs; t += DAY_MS) readDays.add(utcDay(t));
  }
  return { readDays, keep: windows.length === 0 ? 'true' : `w NOT IN (${windows.join(', ')})` };
}

/** A stable description of what a view's rows depend on; a change forces a full recompute of that view. */
export function viewFingerprint(spec: ResolvedViewSpec, layout: ColumnLayout): string {
  const fields = new Set([spec.timeField, ...spec.dimensions, ...spec.measures.flatMap((m) => (m.field ? [m.field] : []))]);
  return JSON.stringify({
    timeField: spec.timeField,
    windowMs: spec.windowMs,
    dimensions: spec.dimensions,
    measures: spec.measures.map((m) => ({ name: m.name, op: m.op, field: m.field ?? null })),
    columns: layout.fields.filter((f) => fields.has(f.name)),
  });
}
