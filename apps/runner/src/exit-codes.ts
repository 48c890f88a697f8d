/**
 * What `lambdaline` exits with, and how an error maps to it. Documented in the
 * runner's README; scripts and supervisors can branch on these.
 */
import { LambdalineError } from '@lambdaline/core';

export const EXIT = {
  /** Done (a finite command finished, or `--help` / `--version`). */
  ok: 0,
  /** A runtime failure: I/O, a batch that cannot publish, a consumer that died, a bug. */
  failure: 1,
  /** Bad usage or configuration: a flag, the --config file, a dataset made with another schema. Fix and retry. */
  usage: 2,
  /** The Kafka brokers could not be reached (after retries). */
  brokerUnreachable: 3,
  /** Stopped by Ctrl-C (SIGINT), after a clean shutdown. */
  sigint: 130,
  /** Stopped by SIGTERM (e.g. `docker stop`), after a clean shutdown. */
  sigterm: 143,
  /** Stopped by SIGHUP (the terminal was closed), after a clean shutdown. */
  sighup: 129,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A usage problem found by the runner itself (not by commander), naming the flag. */
export class UsageError extends LambdalineError {
  constructor(message: string, flag: string) {
    super(message, { field: flag, retriable: false });
  }
}

/** The brokers did not answer after retries. */
export class BrokerUnreachableError extends LambdalineError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

const KAFKA_CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** Walks `cause` chains (and kafkajs' `originalError`) looking for a connection failure. */
export function isBrokerUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (current instanceof BrokerUnreachableError) return true;
    const e = current as { name?: string; message?: string; code?: string; cause?: unknown; originalError?: unknown };
    if (e.name && KAFKA_CONNECTION_ERRORS.has(e.name) && e.name !== 'KafkaJSNumberOfRetriesExceeded') return true;
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT') return true;
    if (typeof e.message === 'string' && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Connection timeout/.test(e.message)) return true;
    current = e.cause ?? e.originalError;
  }
  return false;
}

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  if (isBrokerUnreachable(error)) return EXIT.brokerUnreachable;
  // Core's ConfigError, SchemaError, ViewSpecError: bad input, never retriable, with a field.
  if (error instanceof LambdalineError && !error.retriable && error.field !== undefined) return EXIT.usage;
  return EXIT.failure;
}

/** One line (or a few) for the terminal: the message, the field when it is not already in it. */
export function describeError(error: unknown): string {
  if (error instanceof LambdalineError) {
    const field = error.field !== undefined && !error.message.includes(error.field) ? ` (${error.field})` : '';
    return `${error.message}${field}`;
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
