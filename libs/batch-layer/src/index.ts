/**
 * @lambdaline/batch-layer — the immutable, append-only master dataset (Parquet
 * partitioned by UTC day, with a manifest) and batch views recomputed from it
 * with DuckDB, published atomically with the horizon they cover. This file is
 * the whole public API.
 */
export { openMasterDataset, MasterDataset, type OpenMasterDatasetOptions, type DatasetStats } from './dataset.js';
export type { IngestFilesOptions, IngestReport, FileIngestResult } from './ingest.js';
export { Archiver, type ArchiveOptions, type ArchiveReport, type ArchiveCommitInfo } from './archiver.js';
export type { RunBatchOptions } from './batch-run.js';
export type { CompactOptions, CompactReport } from './compact.js';
export type { CleanupOptions, CleanupReport, RowLoading } from './snapshots.js';
export { QuarantineReader, type QuarantineFilter, type QuarantineSummary, type QuarantineCode } from './quarantine.js';
export type { ManifestCommit, ManifestFile, ArchivedRange, QuarantineRef, FileSourceRef } from './manifest.js';
export type { FileFormat } from './sources.js';
export type { DuckDbOptions } from './duck.js';
export type { FaultHooks, Progress, ProgressListener } from './internals.js';
export { LINEAGE_COLUMNS, columnType, type ColumnLayout } from './columns.js';
export { snapshotsDir } from './layout.js';
export { compileViewSql } from './compile.js';
export { DatasetLockedError, DatasetClosedError, StorageError, InjectedFault, type LockHolder } from './errors.js';
