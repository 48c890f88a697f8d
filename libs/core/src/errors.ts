/**
 * Typed errors shared by every lambdaline package.
 *
 * Like KafkaJS's `KafkaJSError`, each error says whether trying again can help
 * (`retriable`), so callers can tell a broker hiccup from a bad config without
 * parsing messages. Errors about input also name the offending field or parameter.
 */
export interface LambdalineErrorOptions {
  /** The field, parameter or config key at fault, as a path (`measures[1].field`). */
  readonly field?: string;
  /** True when the same call may succeed later (I/O, a busy broker); false for bad input. */
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class LambdalineError extends Error {
  readonly field: string | undefined;
  readonly retriable: boolean;

  constructor(message: string, options: LambdalineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
    this.retriable = options.retriable ?? false;
  }
}

/** A `ViewSpec` that cannot be used. Never retriable: fix the spec. */
export class ViewSpecError extends LambdalineError {
  constructor(message: string, field: string) {
    super(message, { field, retriable: false });
  }
}

/** An `EventSchema` that cannot be used. Never retriable: fix the schema. */
export class SchemaError extends LambdalineError {
  constructor(message: string, field: string) {
    super(message, { field, retriable: false });
  }
}

/** A bad configuration value or function parameter. Never retriable. */
export class ConfigError extends LambdalineError {
  constructor(message: string, field: string) {
    super(message, { field, retriable: false });
  }
}

/** Data on disk or on a topic that does not follow a lambdaline wire format. */
export class FormatError extends LambdalineError {
  constructor(message: string, options: LambdalineErrorOptions = {}) {
    super(message, { retriable: false, ...options });
  }
}

/** Throws a `ConfigError` unless `condition` holds; keeps parameter checks one line each. */
export function assertParam(condition: unknown, field: string, why: string): asserts condition {
  if (!condition) throw new ConfigError(`${field}: ${why}`, field);
}
