import { LambdalineError } from '@lambdaline/core';

/** What went wrong at run time, for status and alerting. */
export type SpeedLayerErrorCode =
  /** A broker call failed (connect, fetch, commit, produce). Usually retriable. */
  | 'broker'
  /** Dead letters could not be delivered yet; they are kept and retried. */
  | 'dead_letter_delivery'
  /** Records the pipeline had to read were no longer in the log (retention deleted them). */
  | 'data_loss'
  /** The consumer stopped for good; the speed layer no longer advances. */
  | 'consumer_failed'
  /** Publishing to the speed feed failed; retried. */
  | 'feed_publish';

/** A run-time failure of the speed layer (bad configuration is a core `ConfigError` instead). */
export class SpeedLayerError extends LambdalineError {
  readonly code: SpeedLayerErrorCode;
  constructor(code: SpeedLayerErrorCode, message: string, options: { retriable: boolean; cause?: unknown; field?: string }) {
    super(message, options);
    this.code = code;
  }
}

/** Wraps a kafkajs (or other) error, keeping its `retriable` flag when it has one. */
export function brokerError(what: string, error: unknown): SpeedLayerError {
  if (error instanceof SpeedLayerError) return error;
  const e = error as { message?: string; retriable?: boolean; name?: string };
  const retriable = typeof e?.retriable === 'boolean' ? e.retriable : true;
  return new SpeedLayerError('broker', `${what}: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`, { retriable, cause: error });
}
