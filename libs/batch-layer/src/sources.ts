/**
 * Readers for history files. Each yields batches of raw records with their
 * row number, without judging them: validation (and quarantine) is the
 * caller's, with core's validator, the same for every format.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { EventSchema } from '@lambdaline/core';
import { num, type Duck } from './duck.js';
import { ident, lit } from './sql.js';

export type FileFormat = 'parquet' | 'csv' | 'ndjson';

/** One input record: its text as found, and for CSV the cells mapped to the header. */
export interface RawRecord {
  /** 1-based line (NDJSON, CSV: the line the record starts on) or row (Parquet). */
  readonly row: number;
  /** The text of the record: the line, the CSV record, or the Parquet row as JSON. */
  readonly raw: string;
  /** CSV only: header → cell, or a reason the record could not be mapped. */
  readonly cells?: Record<string, string> | { readonly malformed: string };
}

/** Reading the input failed (not the dataset): the file is reported as failed, nothing committed. */
export class SourceReadError extends Error {}

const BATCH = 2048;

export function detectFormat(path: string): FileFormat | null {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.parquet') || name.endsWith('.pq')) return 'parquet';
  if (name.endsWith('.csv') || name.endsWith('.tsv')) return 'csv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl') || name.endsWith('.json')) return 'ndjson';
  return null;
}

async function* textChunks(path: string, onBytes: (n: number) => void, chunkBytes = 1 << 20): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  const input = path.toLowerCase().endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
  stream.on('data', (chunk) => onBytes((chunk as Buffer).length));
  const decoder = new StringDecoder('utf8');
  let first = true;
  try {
    for await (const chunk of input) {
      let text = decoder.write(chunk as Buffer);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      if (text.length > 0) yield text;
    }
  } catch (error) {
    throw new SourceReadError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

/** NDJSON: one record per non-blank line (`\n` or `\r\n`). */
export async function* readNdjson(path: string, onBytes: (n: number) => void, chunkBytes?: number): AsyncGenerator<RawRecord[]> {
  let carry = '';
  let line = 0;
  let batch: RawRecord[] = [];
  const emit = (text: string) => {
    line++;
    const raw = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (raw.trim() !== '') batch.push({ row: line, raw });
  };
  for await (const chunk of textChunks(path, onBytes, chunkBytes)) {
    const text = carry + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      emit(text.slice(start, end));
      start = end + 1;
    }
    carry = text.slice(start);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (carry !== '') emit(carry);
  if (batch.length > 0) yield batch;
}

/**
 * CSV (RFC 4180): a header row, `"` quoting with `""` escapes, fields may span
 * lines. A record whose cell count differs from the header's is returned as
 * malformed with the reason; the reader never stops on bad input.
 */
export async function* readCsv(
  path: string,
  onBytes: (n: number) => void,
  delimiter = path.toLowerCase().replace(/\.gz$/, '').endsWith('.tsv') ? '\t' : ',',
  chunkBytes?: number,
): AsyncGenerator<RawRecord[]> {
  let header: string[] | null = null;
  let carry = '';
  let line = 1;
  let batch: RawRecord[] = [];
  const take = (cells: string[], raw: string, startLine: number, problem?: string) => {
    if (header === null) {
      header = cells.map((c) => c.trim());
      return;
    }
    if (cells.length === 1 && cells[0] === '' && problem === undefined) return; // blank line
    if (problem !== undefined) {
      batch.push({ row: startLine, raw, cells: { malformed: problem } });
    } else if (cells.length !== header.length) {
      batch.push({ row: startLine, raw, cells: { malformed: `CSV record at line ${startLine} has ${cells.length} cells but the header has ${header.length}; it cannot be mapped to an event object` } });
    } else {
      const record: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) record[header[i]!] = cells[i]!;
      batch.push({ row: startLine, raw, cells: record });
    }
  };
  const parse = (text: string, eof: boolean): number => {
    let pos = 0;
    while (pos < text.length) {
      const result = parseRecord(text, pos, delimiter, eof);
      if (result === null) break; // incomplete: wait for more text
      const raw = text.slice(pos, result.rawEnd);
      take(result.cells, raw, line, result.problem);
      line += countNewlines(text, pos, result.next);
      pos = result.next;
    }
    return pos;
  };
  for await (const chunk of textChunks(path, onBytes, chunkBytes)) {
    const text = carry + chunk;
    const used = parse(text, false);
    carry = text.slice(used);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (carry !== '') parse(carry, true);
  if (batch.length > 0) yield batch;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

interface ParsedRecord {
  readonly cells: string[];
  /** End of the record's text, excluding the line break. */
  readonly rawEnd: number;
  /** Where the next record starts. */
  readonly next: number;
  readonly problem?: string;
}

function parseRecord(text: string, start: number, delimiter: string, eof: boolean): ParsedRecord | null {
  const cells: string[] = [];
  let i = start;
  for (;;) {
    if (text[i] === '"') {
      let cell = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) {
          if (!eof) return null;
          cells.push(cell + text.slice(j));
          return { cells, rawEnd: text.length, next: text.length, problem: `unterminated quoted field in the CSV record starting here` };
        }
        if (q + 1 >= text.length && !eof) return null; // cannot tell "" from the closing quote yet
        cell += text.slice(j, q);
        if (text[q + 1] === '"') {
          cell += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Anything between the closing quote and the delimiter is kept, leniently.
      let k = i;
      while (k < text.length && text[k] !== delimiter && text[k] !== '\n') k++;
      if (k >= text.length && !eof) return null;
      cell += text.slice(i, k).replace(/\r$/, '');
      cells.push(cell);
      i = k;
    } else {
      const nl = text.indexOf('\n', i);
      const dl = text.indexOf(delimiter, i);
      let k: number;
      if (dl !== -1 && (nl === -1 || dl < nl)) k = dl;
      else if (nl !== -1) k = nl;
      else {
        if (!eof) return null;
        k = text.length;
      }
      let cell = text.slice(i, k);
      if (k === nl || k === text.length) cell = cell.replace(/\r$/, '');
      cells.push(cell);
      i = k;
    }
    if (i >= text.length) return { cells, rawEnd: text.length, next: text.length };
    if (text[i] === delimiter) {
      i++;
      if (i >= text.length) {
        if (!eof) return null;
        cells.push('');
        return { cells, rawEnd: text.length, next: text.length };
      }
      continue;
    }
    // text[i] === '\n'
    const rawEnd = i > start && text[i - 1] === '\r' ? i - 1 : i;
    return { cells, rawEnd, next: i + 1 };
  }
}

/**
 * Parquet: DuckDB reads the file and hands each row over as JSON text, with
 * timestamp-typed columns of timestamp fields turned into ISO-8601 UTC strings
 * (what the validator expects); every other column as it is.
 */
export async function* readParquet(duck: Duck, path: string, schema: EventSchema, onRows: (done: number, total: number) => void): AsyncGenerator<RawRecord[]> {
  const connection = await duck.connect();
  try {
    let stream;
    let total: number;
    try {
      const describe = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(path)})`)).getRowObjectsJS();
      total = num((await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${lit(path)})`)).getRowObjectsJS()[0]?.n);
      const replace: string[] = [];
      for (const col of describe) {
        const name = String(col.column_name);
        const type = String(col.column_type);
        if (schema.fields[name]?.type === 'timestamp' && /^(TIMESTAMP|DATE)/.test(type)) {
          // epoch_us is time-zone independent; make_timestamp gives the UTC wall time to format.
          const asTimestamp = type.startsWith('DATE') ? `${ident(name)}::TIMESTAMP` : ident(name);
          replace.push(`strftime(make_timestamp(epoch_us(${asTimestamp})), '%Y-%m-%dT%H:%M:%S.%gZ') AS ${ident(name)}`);
        }
      }
      const select = replace.length > 0 ? `* REPLACE (${replace.join(', ')})` : '*';
      stream = await connection.stream(`SELECT to_json(t)::VARCHAR AS j FROM (SELECT ${select} FROM read_parquet(${lit(path)})) t`);
    } catch (error) {
      throw new SourceReadError(`cannot read ${path} as Parquet: ${(error as Error).message}`);
    }
    let row = 0;
    for (;;) {
      let chunk;
      try {
        chunk = await stream.fetchChunk();
      } catch (error) {
        throw new SourceReadError(`cannot read ${path} as Parquet: ${(error as Error).message}`);
      }
      if (!chunk || chunk.rowCount === 0) break;
      const values = chunk.getColumnValues(0);
      const batch: RawRecord[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) batch[i] = { row: ++row, raw: String(values[i]) };
      onRows(row, total);
      yield batch;
    }
  } finally {
    connection.closeSync();
  }
}
