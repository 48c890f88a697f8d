/**
 * Ingesting history files (Parquet, CSV, NDJSON, optionally gzipped) into the
 * master dataset: every record goes through core's validator; valid events
 * become Parquet rows under data/, invalid ones quarantine entries; one input
 * file is one manifest commit, so a file is in the dataset entirely or not at all.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { coerceTextFields, parseEvent, validateEvent, type DeadLetter, type RejectionCode } from '@lambdaline/core';
import { ChunkWriter } from './chunk-writer.js';
import { newId } from './fsutil.js';
import type { Internals, ProgressListener } from './internals.js';
import { detectFormat, readCsv, readNdjson, readParquet, SourceReadError, type FileFormat, type RawRecord } from './sources.js';

export interface IngestFilesOptions {
  /** Force a format instead of detecting it from the extension (.parquet, .csv/.tsv, .ndjson/.jsonl/.json, each optionally .gz). */
  readonly format?: FileFormat;
  /** Skip a file whose content (SHA-256) is already in the dataset (default true), so re-running an ingest is a no-op. */
  readonly skipDuplicateFiles?: boolean;
  /** Files processed at once (default 2): one file's validation overlaps another's Parquet writing. Each file is still one commit. */
  readonly concurrency?: number;
  /** CSV delimiter (default `,`; `\t` for .tsv). */
  readonly csvDelimiter?: string;
  readonly onProgress?: ProgressListener;
}

export interface FileIngestResult {
  readonly path: string;
  readonly format: FileFormat;
  /** `skipped`: same content already ingested; `failed`: the file could not be read (nothing committed). */
  readonly status: 'ingested' | 'skipped' | 'failed';
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
  readonly byCode: Readonly<Partial<Record<RejectionCode, number>>>;
  /** Manifest commit that holds the file's rows. */
  readonly commit?: number;
  /** Parquet files written (one per UTC day, more if DuckDB split a day). */
  readonly dataFiles?: number;
  readonly reason?: string;
}

export interface IngestReport {
  readonly files: readonly FileIngestResult[];
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
  readonly byCode: Readonly<Partial<Record<RejectionCode, number>>>;
  readonly skipped: number;
  readonly failed: number;
  readonly durationMs: number;
}

const NON_FINITE = /([:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g;
const MARK = '\u0000lambdaline-non-finite:';

function parseNonFinite(raw: string): unknown {
  if (!NON_FINITE.test(raw)) return undefined;
  NON_FINITE.lastIndex = 0;
  try {
    return JSON.parse(raw.replace(NON_FINITE, (_, before: string, token: string) => `${before}${JSON.stringify(MARK + token)}`), (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(MARK) ? Number(value.slice(MARK.length)) : value,
    );
  } catch {
    return undefined;
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function ingestFile(ctx: Internals, inputPath: string, options: IngestFilesOptions, started: number): Promise<FileIngestResult> {
  const path = resolve(inputPath);
  const format = options.format ?? detectFormat(path)!;
  const info = await stat(path);
  const digest = await sha256(path);
  const empty = { path, format, records: 0, accepted: 0, quarantined: 0, byCode: {} };
  const previous = ctx.manifest.sourceCommit(digest);
  if (previous !== undefined && options.skipDuplicateFiles !== false) {
    return { ...empty, status: 'skipped', commit: previous, reason: `the same content was ingested by manifest commit ${previous}` };
  }
  const id = newId();
  const writer = new ChunkWriter(ctx, id, `file:${path}`);
  const at = new Date().toISOString();
  const progress = (done: number, total: number | null, unit: 'bytes' | 'rows') =>
    options.onProgress?.({ phase: 'ingest', step: path, done, total, unit, elapsedMs: Date.now() - started });
  let bytesRead = 0;
  let lastReport = 0;
  const onBytes = (n: number) => {
    bytesRead += n;
    if (bytesRead - lastReport >= 16 << 20) {
      lastReport = bytesRead;
      progress(bytesRead, info.size, 'bytes');
    }
  };
  let source: AsyncGenerator<RawRecord[]>;
  if (format === 'ndjson') source = readNdjson(path, onBytes);
  else if (format === 'csv') source = readCsv(path, onBytes, options.csvDelimiter);
  else source = readParquet(ctx.duck, path, ctx.schema, (done, total) => {
    if (done - lastReport >= 500_000 || done === total) {
      lastReport = done;
      progress(done, total, 'rows');
    }
  });
  let records = 0;
  const reject = (record: RawRecord, code: DeadLetter['code'], reason: string, field?: string) => {
    const letter: DeadLetter = {
      code,
      ...(field === undefined ? {} : { field }),
      reason,
      raw: record.raw,
      origin: { kind: 'file', path, row: record.row },
      at,
    };
    writer.addDeadLetter(letter);
  };
  try {
    try {
      for await (const batch of source) {
        for (const record of batch) {
          records++;
          let result;
          if (record.cells === undefined) {
            result = parseEvent(ctx.schema, record.raw);
            if (!result.ok && result.rejection.code === 'malformed_json' && format === 'parquet') {
              // DuckDB writes non-finite doubles as bare NaN / Infinity: read them as the numbers
              // they are, so the validator reports them the way it does everywhere (out_of_range).
              const value = parseNonFinite(record.raw);
              if (value !== undefined) result = validateEvent(ctx.schema, value);
            }
          } else if ('malformed' in record.cells) {
            reject(record, 'not_an_object', record.cells.malformed as string);
            continue;
          } else {
            result = validateEvent(ctx.schema, coerceTextFields(ctx.schema, record.cells));
          }
          if (result.ok) writer.addEvent(result.event, result.eventTime);
          else reject(record, result.rejection.code, result.rejection.reason, result.rejection.field);
        }
        if (writer.pendingBytes >= 4 << 20) await writer.drain();
      }
    } catch (error) {
      if (error instanceof SourceReadError) {
        await writer.dispose();
        return { ...empty, status: 'failed', reason: error.message };
      }
      throw error;
    }
    progress(format === 'parquet' ? records : info.size, format === 'parquet' ? records : info.size, format === 'parquet' ? 'rows' : 'bytes');
    const commit = await ctx.commits.run(async () => {
      // Checked again under the commit lock: a concurrent ingest of a copy of the same file.
      const raced = ctx.manifest.sourceCommit(digest);
      if (raced !== undefined && options.skipDuplicateFiles !== false) return raced;
      const { files, quarantine } = await writer.finish(at);
      try {
        await ctx.faults.beforeCommit?.({ kind: 'file', id, files: files.map((f) => f.path) });
        return await ctx.manifest.commit({
          id,
          kind: 'file',
          source: { path, format, sha256: digest, bytes: info.size },
          files,
          ranges: [],
          quarantine,
          records,
          accepted: writer.accepted,
          quarantined: writer.quarantined,
        });
      } catch (error) {
        // Not committed: the files are orphans; remove them now rather than at the next open.
        for (const f of files) await rm(join(ctx.paths.root, f.path), { force: true });
        if (quarantine) await rm(join(ctx.paths.root, quarantine.path), { force: true });
        throw error;
      }
    });
    if (typeof commit === 'number') return { ...empty, status: 'skipped', commit, reason: `the same content was ingested by manifest commit ${commit}` };
    return {
      path,
      format,
      status: 'ingested',
      records,
      accepted: writer.accepted,
      quarantined: writer.quarantined,
      byCode: { ...writer.byCode },
      commit: commit.seq,
      dataFiles: commit.files.length,
    };
  } finally {
    await writer.dispose();
  }
}
