/**
 * Errors of the batch layer. All extend core's `LambdalineError`, so callers can
 * branch on `retriable` and `field` without parsing messages.
 */
import { LambdalineError } from '@lambdaline/core';

/**
 * Another writer holds the dataset's lock file. Retriable: it may be released.
 * `lockFile` and `holder` say who holds it; remove the file only when that
 * process is certainly gone (a lock of a dead process on this host is taken
 * over automatically).
 */
export class DatasetLockedError extends LambdalineError {
  readonly lockFile: string;
  readonly holder: LockHolder | null;

  constructor(message: string, lockFile: string, holder: LockHolder | null) {
    super(message, { field: 'dir', retriable: true });
    this.lockFile = lockFile;
    this.holder = holder;
  }
}

/** The dataset was closed (or opened read-only) and cannot do what was asked. Never retriable. */
export class DatasetClosedError extends LambdalineError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/**
 * Reading or writing the dataset's files (or running DuckDB over them) failed
 * for a reason outside the input: a full disk, a permission, an I/O error.
 * Retriable: nothing was committed, so the same call can be repeated.
 */
export class StorageError extends LambdalineError {
  readonly path: string | undefined;

  constructor(message: string, options: { path?: string; cause?: unknown; retriable?: boolean } = {}) {
    super(message, { retriable: options.retriable ?? true, cause: options.cause, field: options.path === undefined ? undefined : 'dir' });
    this.path = options.path;
  }
}

/** Thrown by a fault hook to simulate a crash at a precise point (tests only). */
export class InjectedFault extends LambdalineError {
  constructor(point: string) {
    super(`injected fault at ${point}`, { retriable: true });
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
}
