/**
 * Where things live under a dataset directory:
 *
 *   dataset.json                      schema and format of the dataset (written once)
 *   LOCK                              held by the one writer process
 *   data/day=YYYY-MM-DD/<id>.parquet  master dataset files (immutable; listed in the manifest)
 *   manifest/<seq>.json               one commit each, written tmp + rename (the commit point)
 *   manifest/checkpoint-<seq>.json    all commits up to <seq>, to keep opening fast
 *   quarantine/<id>.ndjson            rejected inputs (core DeadLetter per line), listed in the manifest
 *   snapshots/CURRENT, snapshots/vNNN core's snapshot format (readCurrentSnapshot reads it)
 *   tmp/                              work in progress; anything here after a crash is garbage
 */
import { join } from 'node:path';

export interface DatasetPaths {
  readonly root: string;
  readonly datasetFile: string;
  readonly lockFile: string;
  readonly data: string;
  readonly manifest: string;
  readonly quarantine: string;
  readonly snapshots: string;
  readonly tmp: string;
}

export function datasetPaths(root: string): DatasetPaths {
  return {
    root,
    datasetFile: join(root, 'dataset.json'),
    lockFile: join(root, 'LOCK'),
    data: join(root, 'data'),
    manifest: join(root, 'manifest'),
    quarantine: join(root, 'quarantine'),
    snapshots: join(root, 'snapshots'),
    tmp: join(root, 'tmp'),
  };
}

/** The directory core's `readCurrentSnapshot` reads, for a serving layer in another process. */
export function snapshotsDir(datasetDir: string): string {
  return join(datasetDir, 'snapshots');
}

export const DATASET_FORMAT = 'lambdaline.dataset/1';
export const MANIFEST_FORMAT = 'lambdaline.manifest/1';
export const BATCH_STATE_FORMAT = 'lambdaline.batch-state/1';
export const BATCH_STATE_FILE = 'batch-state.json';

/** Relative (posix) path of a data file inside the dataset. */
export function dataFileRel(day: string, fileId: string): string {
  return `data/day=${day}/${fileId}.parquet`;
}
