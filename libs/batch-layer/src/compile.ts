/** The SQL a view compiles to, for inspection and for running it yourself. */
import { assertParam, validateViewSpec, type EventSchema, type ViewSpec } from '@lambdaline/core';
import { columnLayout } from './columns.js';
import { aggregateSql, copyViewSql } from './view-sql.js';

/**
 * The DuckDB statement that computes `view` over the given master-dataset
 * Parquet files and writes it to `outFile` in core's snapshot line format.
 * A full `runBatch` runs exactly this per view (an incremental one unions the
 * recomputed windows with the previous rows of the others).
 */
export function compileViewSql(schema: EventSchema, view: ViewSpec, files: readonly string[], outFile: string): string {
  const spec = validateViewSpec(view, schema, 'view');
  assertParam(Array.isArray(files) && files.length > 0, 'files', 'must list at least one Parquet file');
  assertParam(typeof outFile === 'string' && outFile !== '', 'outFile', 'must be a file path');
  const layout = columnLayout(schema);
  return copyViewSql(spec, layout, [aggregateSql(spec, layout, files)], outFile);
}
