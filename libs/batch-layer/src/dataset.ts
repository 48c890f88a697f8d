/**
 * `MasterDataset`: the batch layer's one object. Open it on a directory, feed
 * it history files and Kafka records, run batches, read the latest snapshot or
 * subscribe to new ones. It satisfies core's `BatchSnapshotSource`, so an
 * in-process serving layer can use it directly.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Observable, Subject } from 'rxjs';
import {
  ConfigError,
  defaultDomain,
  validateEventSchema,
  validateViewSpecs,
  type BatchSnapshot,
  type BatchSnapshotSource,
  type EventSchema,
  type Horizon,
  type RejectionCode,
  type ResolvedViewSpec,
  type SourceRecord,
  type ViewSpec,
} from '@lambdaline/core';
import { Archiver, archiveAll, type ArchiveOptions, type ArchiveReport, type PartitionClaims } from './archiver.js';
import { runBatch, type RunBatchOptions } from './batch-run.js';
import { columnLayout, type ColumnLayout } from './columns.js';
import { compactFiles, type CompactOptions, type CompactReport } from './compact.js';
import { Duck, type DuckDbOptions } from './duck.js';
import { DatasetClosedError } from './errors.js';
import { ensureDir, exists, listDir, writeFileAtomic } from './fsutil.js';
import { ingestFile, type FileIngestResult, type IngestFilesOptions, type IngestReport } from './ingest.js';
import { Mutex, type FaultHooks, type Internals } from './internals.js';
import { DATASET_FORMAT, datasetPaths, type DatasetPaths } from './layout.js';
import { acquireLock, type DatasetLock } from './lock.js';
import { Manifest } from './manifest.js';
import { QuarantineReader } from './quarantine.js';
import {
  SnapshotHandle,
  cleanupVersions,
  readCurrentVersion,
  removeUnpublished,
  type CleanupOptions,
  type CleanupReport,
  type PublishedVersion,
  type RowLoading,
} from './snapshots.js';
import { detectFormat } from './sources.js';

export interface OpenMasterDatasetOptions {
  /** The dataset directory; created when missing. */
  readonly dir: string;
  /**
   * The event schema. Defaults to the schema the dataset was created with, or
   * to core's default sensor schema for a new dataset. Reopening with a
   * different schema is a `ConfigError`.
   */
  readonly schema?: EventSchema;
  /** The batch views (default: core's `defaultViews` when the schema is the default one). */
  readonly views?: readonly ViewSpec[];
  /** Open without the writer lock: read snapshots, horizon and quarantine only. */
  readonly readOnly?: boolean;
  /** fsync files and directories at every commit point (default true). Off only for throwaway data. */
  readonly durable?: boolean;
  /** Parquet compression of master-dataset files (default `snappy`). */
  readonly compression?: 'snappy' | 'zstd' | 'gzip' | 'uncompressed';
  /**
   * When the rows of a snapshot are read into memory: `lazy` (default) on the
   * first access to a view of `latest()`, `eager` as soon as it is published.
   */
  readonly rows?: RowLoading;
  /** Clean up superseded snapshots after each publish (default `{ graceMs: 600000, keepLast: 2 }`); false to never. */
  readonly retention?: CleanupOptions | false;
  readonly duckdb?: DuckDbOptions;
  /** Fold the manifest into a checkpoint every this many commits (default 500). */
  readonly checkpointEvery?: number;
  /** Test hooks to simulate crashes at commit points. Not for production use. */
  readonly faults?: FaultHooks;
}

export interface DatasetStats {
  readonly commits: number;
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
  readonly days: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly quarantined: number;
  /** Partitions whose archived offsets have gaps below the horizon end (fed out of order). */
  readonly offsetGaps: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly ranges: number }>;
}

const SCHEMA_KEYS = ['name', 'timeField', 'idField', 'fields'] as const;

function canonicalSchema(schema: EventSchema): unknown {
  const fields = Object.fromEntries(
    Object.entries(schema.fields).map(([name, spec]) => [name, Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))]),
  );
  return { name: schema.name, timeField: schema.timeField, idField: schema.idField ?? null, fields };
}

function schemaDifference(stored: EventSchema, given: EventSchema): string | null {
  const a = canonicalSchema(stored) as Record<string, unknown>;
  const b = canonicalSchema(given) as Record<string, unknown>;
  for (const key of SCHEMA_KEYS) {
    if (key === 'fields') continue;
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return `schema.${key}`;
  }
  const fa = a.fields as Record<string, unknown>;
  const fb = b.fields as Record<string, unknown>;
  for (const name of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
    if (JSON.stringify(fa[name]) !== JSON.stringify(fb[name])) return `schema.fields.${name}`;
  }
  if (JSON.stringify(Object.keys(fa)) !== JSON.stringify(Object.keys(fb))) return 'schema.fields';
  return null;
}

/**
 * Opens (creating if needed) a master dataset. Takes the writer lock unless
 * `readOnly`; removes what a crashed writer left behind (files not in the
 * manifest, unpublished snapshot directories).
 */
export async function openMasterDataset(options: OpenMasterDatasetOptions): Promise<MasterDataset> {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options: must be an object { dir, schema?, views? }', 'options');
  if (typeof options.dir !== 'string' || options.dir.trim() === '') throw new ConfigError('dir: must be a non-empty directory path', 'dir');
  const paths = datasetPaths(options.dir);
  const readOnly = options.readOnly === true;
  const rows = options.rows ?? 'lazy';
  if (rows !== 'lazy' && rows !== 'eager') throw new ConfigError(`rows: must be "lazy" or "eager", got ${JSON.stringify(rows)}`, 'rows');
  const compression = options.compression ?? 'snappy';
  if (!['snappy', 'zstd', 'gzip', 'uncompressed'].includes(compression)) {
    throw new ConfigError(`compression: must be snappy, zstd, gzip or uncompressed, got ${JSON.stringify(compression)}`, 'compression');
  }
  if (options.checkpointEvery !== undefined && !(Number.isInteger(options.checkpointEvery) && options.checkpointEvery > 0)) {
    throw new ConfigError('checkpointEvery: must be a positive integer', 'checkpointEvery');
  }
  let stored: EventSchema | null = null;
  if (await exists(paths.datasetFile)) {
    const meta = JSON.parse(await readFile(paths.datasetFile, 'utf8')) as { format?: string; schema?: EventSchema };
    if (meta.format !== DATASET_FORMAT) throw new ConfigError(`dir: ${paths.datasetFile} is not a ${DATASET_FORMAT} file`, 'dir');
    stored = validateEventSchema(meta.schema);
  } else if (readOnly) {
    throw new ConfigError(`dir: ${options.dir} is not a master dataset (no dataset.json); open it once for writing to create it`, 'dir');
  }
  const schema = validateEventSchema(options.schema ?? stored ?? defaultDomain.schema);
  if (stored) {
    const differs = schemaDifference(stored, schema);
    if (differs) {
      throw new ConfigError(`${differs}: differs from the schema this dataset was created with (${paths.datasetFile}); a master dataset keeps one schema`, differs);
    }
  }
  const viewInput = options.views ?? (schemaDifference(defaultDomain.schema, schema) === null ? defaultDomain.views : undefined);
  if (viewInput === undefined) throw new ConfigError('views: required when the schema is not the default sensor schema', 'views');
  const views = validateViewSpecs(viewInput, schema, 'views');

  let lock: DatasetLock | null = null;
  if (!readOnly) {
    await ensureDir(paths.root);
    lock = await acquireLock(paths.lockFile);
  }
  let duck: Duck | null = null;
  try {
    const durable = options.durable ?? true;
    if (!readOnly) {
      for (const d of [paths.data, paths.manifest, paths.quarantine, paths.snapshots]) await ensureDir(d);
      await rm(paths.tmp, { recursive: true, force: true });
      await ensureDir(paths.tmp);
      if (!stored) {
        await writeFileAtomic(paths.datasetFile, `${JSON.stringify({ format: DATASET_FORMAT, createdAt: new Date().toISOString(), schema }, null, 1)}\n`, durable);
      }
    }
    const manifest = await Manifest.load(paths.manifest, { durable, checkpointEvery: options.checkpointEvery });
    const current = await readCurrentVersion(paths.snapshots);
    if (!readOnly) {
      await removeOrphans(paths, manifest);
      await removeUnpublished(paths.snapshots, current?.meta.version ?? 0);
    }
    duck = await Duck.open(options.duckdb ?? {}, join(paths.tmp, 'duckdb'));
    const internals: Internals = {
      paths,
      duck,
      layout: columnLayout(schema),
      timeField: schema.timeField,
      durable,
      compression,
      schema,
      manifest,
      commits: new Mutex(),
      faults: options.faults ?? {},
    };
    return new MasterDataset(internals, views, lock, readOnly, rows, options.retention ?? {}, current);
  } catch (error) {
    duck?.close();
    await lock?.release();
    throw error;
  }
}

/** Deletes data and quarantine files no manifest commit lists: a crash before their commit. */
async function removeOrphans(paths: DatasetPaths, manifest: Manifest): Promise<number> {
  const referenced = manifest.referencedPaths();
  let removed = 0;
  const rel = (p: string) => relative(paths.root, p).split(sep).join('/');
  for (const day of await listDir(paths.data)) {
    const dayDir = join(paths.data, day);
    if (!(await stat(dayDir)).isDirectory()) continue;
    for (const name of await readdir(dayDir)) {
      const file = join(dayDir, name);
      if (!referenced.has(rel(file))) {
        await rm(file, { force: true });
        removed++;
      }
    }
  }
  // Temporary files of atomic writes that never got renamed.
  for (const dir of [paths.manifest, paths.root]) {
    for (const name of await listDir(dir)) {
      if (/^\.[0-9a-f]+\.tmp$/.test(name)) await rm(join(dir, name), { force: true });
    }
  }
  for (const name of await listDir(paths.quarantine)) {
    const file = join(paths.quarantine, name);
    if (!referenced.has(rel(file))) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

export class MasterDataset implements BatchSnapshotSource {
  /** Emits each newly published snapshot (not the one current at subscription; use `latest()`). */
  readonly snapshots: Observable<BatchSnapshot>;
  readonly dir: string;
  readonly schema: EventSchema;
  readonly views: readonly ResolvedViewSpec[];
  private readonly subject = new Subject<BatchSnapshot>();
  private readonly runs = new Mutex();
  private readonly claims: PartitionClaims = new Map();
  private readonly archivers = new Set<Archiver>();
  private readonly handles = new Map<number, WeakRef<SnapshotHandle>>();
  private current: SnapshotHandle | null;
  private closed = false;

  /** @internal use `openMasterDataset` */
  constructor(
    private internals: Internals,
    views: readonly ResolvedViewSpec[],
    private readonly lock: DatasetLock | null,
    readonly readOnly: boolean,
    private readonly rowLoading: RowLoading,
    private readonly retention: CleanupOptions | false,
    current: PublishedVersion | null,
  ) {
    this.dir = internals.paths.root;
    this.schema = internals.schema;
    this.views = views;
    this.snapshots = this.subject.asObservable();
    this.current = current ? this.track(new SnapshotHandle(current, rowLoading)) : null;
  }

  /** The column types of the master dataset's Parquet files. */
  get columns(): ColumnLayout {
    return this.internals.layout;
  }

  /** The snapshot being served now, or null before the first publish. */
  latest(): BatchSnapshot | null {
    return this.current?.snapshot ?? null;
  }

  /**
   * What has been archived so far (committed to the manifest), per partition and
   * over file history; the next batch run's snapshot will cover exactly this.
   */
  horizon(): Horizon {
    return this.internals.manifest.horizonAt();
  }

  /**
   * Ingests history files. Each file is one atomic commit: all its valid rows
   * and its quarantined records, or nothing. A file already ingested (same
   * content) is skipped. A file that cannot be read is reported `failed`;
   * bad records never stop the ingest.
   */
  async ingestFiles(paths: string | readonly string[], options: IngestFilesOptions = {}): Promise<IngestReport> {
    this.assertWritable('ingestFiles');
    const list = typeof paths === 'string' ? [paths] : paths;
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError('paths: must be a file path or a non-empty array of them', 'paths');
    if (options.format !== undefined && !['parquet', 'csv', 'ndjson'].includes(options.format)) {
      throw new ConfigError(`options.format: must be parquet, csv or ndjson, got ${JSON.stringify(options.format)}`, 'options.format');
    }
    if (options.csvDelimiter !== undefined && (typeof options.csvDelimiter !== 'string' || options.csvDelimiter.length !== 1 || options.csvDelimiter === '"' || options.csvDelimiter === '\n')) {
      throw new ConfigError('options.csvDelimiter: must be one character other than " and newline', 'options.csvDelimiter');
    }
    for (const [i, path] of list.entries()) {
      const at = typeof paths === 'string' ? 'paths' : `paths[${i}]`;
      if (typeof path !== 'string' || path === '') throw new ConfigError(`${at}: must be a non-empty file path`, at);
      let isFile = false;
      try {
        isFile = (await stat(path)).isFile();
      } catch {
        throw new ConfigError(`${at}: ${path} does not exist or cannot be read`, at);
      }
      if (!isFile) throw new ConfigError(`${at}: ${path} is not a file`, at);
      if (options.format === undefined && detectFormat(path) === null) {
        throw new ConfigError(`${at}: cannot tell the format of ${path} from its extension (.parquet, .csv, .tsv, .ndjson, .jsonl, .json, optionally .gz); pass options.format`, at);
      }
    }
    const concurrency = options.concurrency ?? 2;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new ConfigError('options.concurrency: must be an integer >= 1', 'options.concurrency');
    const started = Date.now();
    // Files are independent commits; two at a time lets one file's validation (JS)
    // overlap the other's Parquet writing (DuckDB threads).
    const results: FileIngestResult[] = new Array(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const index = next++;
        this.assertWritable('ingestFiles');
        results[index] = await ingestFile(this.internals, list[index]!, options, started);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
    const byCode: Partial<Record<RejectionCode, number>> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.byCode)) byCode[code as RejectionCode] = (byCode[code as RejectionCode] ?? 0) + (n ?? 0);
    return {
      files: results,
      records: results.reduce((s, r) => s + r.records, 0),
      accepted: results.reduce((s, r) => s + r.accepted, 0),
      quarantined: results.reduce((s, r) => s + r.quarantined, 0),
      byCode,
      skipped: results.filter((r) => r.status === 'skipped').length,
      failed: results.filter((r) => r.status === 'failed').length,
      durationMs: Date.now() - started,
    };
  }

  /**
   * Archives a stream of log records (e.g. from a Kafka consumer) until it
   * ends or `options.signal` aborts. Exactly-once: offsets already in the
   * manifest are skipped. Resolves with what was archived.
   */
  async archive(records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>, options: ArchiveOptions = {}): Promise<ArchiveReport> {
    if (records === null || typeof records !== 'object' || !(Symbol.asyncIterator in records || Symbol.iterator in records)) {
      throw new ConfigError('records: must be an iterable or async iterable of { topic, partition, offset, value }', 'records');
    }
    const archiver = this.createArchiver(options);
    try {
      return await archiveAll(archiver, records, options.signal);
    } finally {
      this.archivers.delete(archiver);
    }
  }

  /**
   * A push-style archiver, for feeding from a consumer callback (kafkajs
   * `eachBatch`): `await archiver.write(records)`, `await archiver.flush()`
   * before committing consumer offsets, `await archiver.close()` at the end.
   */
  createArchiver(options: ArchiveOptions = {}): Archiver {
    this.assertWritable('archive');
    const archiver = new Archiver(this.internals, this.claims, options, () => !this.closed);
    this.archivers.add(archiver);
    return archiver;
  }

  /**
   * Computes every view over the manifest as of now and publishes a new
   * snapshot atomically. Resolves with the published snapshot, or with the
   * current one when nothing was committed since (unless `force`). Runs are
   * serialised; ingest and archiving may continue while one runs.
   */
  runBatch(options: RunBatchOptions = {}): Promise<BatchSnapshot> {
    if (options.mode !== undefined && options.mode !== 'full' && options.mode !== 'incremental') {
      return Promise.reject(new ConfigError(`mode: must be "incremental" or "full", got ${JSON.stringify(options.mode)}`, 'mode'));
    }
    try {
      this.assertWritable('runBatch');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runs.run(async () => {
      this.assertWritable('runBatch');
      const published = await runBatch(
        { internals: this.internals, views: this.views, snapshotsDir: this.internals.paths.snapshots, current: this.current?.version ?? null },
        options,
      );
      if (published === null) return this.current!.snapshot;
      const handle = this.track(new SnapshotHandle(published, this.rowLoading));
      this.current = handle;
      this.subject.next(handle.snapshot);
      if (this.retention !== false) {
        await this.cleanupLocked(this.retention).catch(() => undefined);
      }
      return handle.snapshot;
    });
  }

  /**
   * Read-only datasets see the state as of `open` (or the last refresh):
   * this re-reads the manifest and CURRENT, and emits on `snapshots` when a
   * newer snapshot was published by the writer. Resolves with `latest()`.
   */
  async refresh(): Promise<BatchSnapshot | null> {
    if (this.closed) throw new DatasetClosedError(`refresh: the dataset ${this.dir} is closed`);
    if (!this.readOnly) return this.latest(); // the writer is always current
    const { paths, durable } = this.internals;
    const manifest = await Manifest.load(paths.manifest, { durable });
    const current = await readCurrentVersion(paths.snapshots);
    this.internals = { ...this.internals, manifest };
    if (current && current.meta.version !== this.current?.version.meta.version) {
      this.current = this.track(new SnapshotHandle(current, this.rowLoading));
      this.subject.next(this.current.snapshot);
    }
    return this.latest();
  }

  /**
   * Merges each day's small files (the archiver writes one per day per chunk)
   * into larger ones, one manifest commit per day. Rows, horizon and views do
   * not change; batch runs get faster. Runs between batch runs (never during one).
   */
  compact(options: CompactOptions = {}): Promise<CompactReport> {
    for (const key of ['minFiles', 'smallFileRows', 'maxRowsPerFile'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isInteger(value) && value >= (key === 'minFiles' ? 2 : 1))) {
        return Promise.reject(new ConfigError(`${key}: must be an integer >= ${key === 'minFiles' ? 2 : 1}`, key));
      }
    }
    try {
      this.assertWritable('compact');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runs.run(() => compactFiles(this.internals, options));
  }

  /** The quarantine: counts by rejection code, and the dead letters themselves. */
  quarantine(): QuarantineReader {
    return new QuarantineReader(this.internals.paths.root, this.internals.manifest, this.internals.manifest.seq);
  }

  stats(): DatasetStats {
    const manifest = this.internals.manifest;
    const files = manifest.filesAt();
    const days = [...new Set(files.map((f) => f.day))].sort();
    return {
      commits: manifest.seq,
      files: files.length,
      rows: files.reduce((s, f) => s + f.rows, 0),
      bytes: files.reduce((s, f) => s + f.bytes, 0),
      days: days.length,
      firstDay: days[0] ?? null,
      lastDay: days[days.length - 1] ?? null,
      quarantined: this.quarantine().count,
      offsetGaps: manifest.gaps(),
    };
  }

  /** Absolute paths of the master-dataset files committed so far (for your own DuckDB queries). */
  files(): string[] {
    return this.internals.manifest.filesAt().map((f) => join(this.internals.paths.root, f.path));
  }

  /**
   * Deletes superseded snapshot versions whose grace period is over. Snapshot
   * objects of this process that are still referenced and not yet read are
   * read into memory first, so they stay usable.
   */
  cleanupSnapshots(options: CleanupOptions = {}): Promise<CleanupReport> {
    if (options.graceMs !== undefined && !(typeof options.graceMs === 'number' && options.graceMs >= 0)) {
      return Promise.reject(new ConfigError('graceMs: must be a number of milliseconds >= 0', 'graceMs'));
    }
    if (options.keepLast !== undefined && !(Number.isInteger(options.keepLast) && options.keepLast >= 1)) {
      return Promise.reject(new ConfigError('keepLast: must be an integer >= 1', 'keepLast'));
    }
    try {
      this.assertWritable('cleanupSnapshots');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runs.run(() => this.cleanupLocked(options));
  }

  private cleanupLocked(options: CleanupOptions): Promise<CleanupReport> {
    if (!this.current) return Promise.resolve({ removed: [], kept: [] });
    return cleanupVersions(this.internals.paths.snapshots, this.current.version.meta.version, options, (version) => {
      const handle = this.handles.get(version)?.deref();
      if (handle && !handle.materialized) handle.materialize();
      this.handles.delete(version);
    });
  }

  /**
   * Waits for the running batch and commits, commits what archivers buffered,
   * stops DuckDB, releases the lock and completes `snapshots`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    for (const archiver of this.archivers) await archiver.close().catch((error) => errors.push(error));
    this.archivers.clear();
    await this.runs.run(async () => undefined);
    await this.internals.commits.run(async () => undefined);
    this.internals.duck.close();
    await this.lock?.release();
    this.subject.complete();
    if (errors.length > 0) throw errors[0];
  }

  private track(handle: SnapshotHandle): SnapshotHandle {
    this.handles.set(handle.version.meta.version, new WeakRef(handle));
    return handle;
  }

  private assertWritable(what: string): void {
    if (this.closed) throw new DatasetClosedError(`${what}: the dataset ${this.dir} is closed`);
    if (this.readOnly) throw new DatasetClosedError(`${what}: the dataset ${this.dir} was opened read-only`);
  }
}
