/** What the dataset's parts share. Internal: not exported from the package. */
import type { EventSchema } from '@lambdaline/core';
import type { ChunkContext } from './chunk-writer.js';
import type { Manifest } from './manifest.js';

/**
 * Test hooks that run at the points where a crash matters. Throwing from one
 * (or never returning) simulates a crash there. Not for production use.
 */
export interface FaultHooks {
  /** Data and quarantine files are in place under data/ and quarantine/, the manifest commit is next. */
  beforeCommit?(info: { readonly kind: 'file' | 'archive'; readonly id: string; readonly files: readonly string[] }): void | Promise<void>;
  /** A batch run wrote one view file into its staging directory. */
  afterViewWritten?(info: { readonly view: string; readonly version: number }): void | Promise<void>;
  /** The new version directory is complete; CURRENT is switched next. */
  beforePublish?(info: { readonly version: number }): void | Promise<void>;
}

/** Serialises async sections (manifest commits, batch runs). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface Internals extends ChunkContext {
  readonly schema: EventSchema;
  readonly manifest: Manifest;
  readonly commits: Mutex;
  readonly faults: FaultHooks;
}

/** Progress of long work, for logs and progress bars. */
export interface Progress {
  readonly phase: 'ingest' | 'archive' | 'batch' | 'compact';
  /** What is being worked on: a file path, a view name. */
  readonly step: string;
  readonly done: number;
  /** null when unknown. */
  readonly total: number | null;
  readonly unit: 'bytes' | 'rows' | 'records' | 'views' | 'percent' | 'days';
  readonly elapsedMs: number;
}

export type ProgressListener = (progress: Progress) => void;
