/**
 * The serving layer's own error: a query for a view that is not configured.
 * Everything else is a core `ConfigError` naming the parameter at fault.
 */
import { LambdalineError } from '@lambdaline/core';

/** A query named a view this serving layer does not serve. HTTP maps it to 404. */
export class UnknownViewError extends LambdalineError {
  readonly view: string;
  constructor(view: string, known: readonly string[]) {
    super(`view ${JSON.stringify(view)}: no such view; known views: ${known.join(', ') || '(none)'}`, {
      field: 'view',
      retriable: false,
    });
    this.view = view;
  }
}
