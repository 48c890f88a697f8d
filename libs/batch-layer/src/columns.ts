/**
 * How a schema maps to the master dataset's Parquet columns. Every schema
 * field becomes a typed column; lambdaline adds its own columns (names start
 * with `_`, which core reserves) that say where each row came from.
 */
import type { EventSchema, FieldSpec } from '@lambdaline/core';
import { ident } from './sql.js';

/** lambdaline's own columns in every Parquet file of the master dataset. */
export const LINEAGE_COLUMNS = {
  /** Kafka topic, null for file sources. */
  _topic: 'VARCHAR',
  /** Kafka partition, null for file sources. */
  _partition: 'INTEGER',
  /** Kafka offset, null for file sources. */
  _offset: 'BIGINT',
  /** `kafka` or `file:<path>`. */
  _source: 'VARCHAR',
  /** When the row was committed to the master dataset. */
  _ingested_at: 'TIMESTAMPTZ',
} as const;

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The DuckDB type of a field. Integers are BIGINT when the schema bounds them
 * within ±2^53 (every value is then exact in both JS and DuckDB); otherwise
 * DOUBLE, which holds exactly what a JS number holds.
 */
export function columnType(spec: FieldSpec): string {
  switch (spec.type) {
    case 'string':
      return 'VARCHAR';
    case 'number':
      return 'DOUBLE';
    case 'integer':
      return spec.min !== undefined && spec.max !== undefined && spec.min >= -SAFE && spec.max <= SAFE ? 'BIGINT' : 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMPTZ';
  }
}

export interface ColumnLayout {
  /** `required`: never null in the dataset (the validator rejects events without it). */
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: string; readonly required: boolean }>;
}

export function columnLayout(schema: EventSchema): ColumnLayout {
  return { fields: Object.entries(schema.fields).map(([name, spec]) => ({ name, type: columnType(spec), required: spec.required !== false })) };
}

/** The `columns={...}` argument of read_json for staged rows. */
export function stagingColumnsArg(layout: ColumnLayout): string {
  const entries = [
    ...layout.fields.map((f) => `${quoteKey(f.name)}: '${f.type}'`),
    `'_topic': 'VARCHAR'`,
    `'_partition': 'INTEGER'`,
    `'_offset': 'BIGINT'`,
    `'_day': 'VARCHAR'`,
  ];
  return `{${entries.join(', ')}}`;
}

function quoteKey(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** The select list that turns staged rows into master-dataset rows. */
export function masterSelectList(layout: ColumnLayout): string {
  return layout.fields.map((f) => ident(f.name)).join(', ');
}
