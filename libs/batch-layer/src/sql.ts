/** Quoting for the SQL this package generates. Nothing user-typed is ever spliced unquoted. */

/** A SQL identifier: `"name"` with embedded quotes doubled. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. */
export function lit(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A DuckDB list literal of strings, e.g. a list of files for read_parquet. */
export function litList(items: readonly string[]): string {
  return `[${items.map(lit).join(', ')}]`;
}
