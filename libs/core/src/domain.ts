/**
 * Loading a user's own domain (schema + views), e.g. from a config file the
 * runner parsed. Errors name the key at fault.
 */
import { ConfigError } from './errors.js';
import { validateEventSchema, type EventSchema } from './event-schema.js';
import { validateViewSpecs, type ResolvedViewSpec } from './view-spec.js';

export interface ResolvedDomain {
  readonly schema: EventSchema;
  readonly views: readonly ResolvedViewSpec[];
}

export function resolveDomain(input: unknown): ResolvedDomain {
  if (typeof input !== 'object' || input === null) throw new ConfigError('config: must be an object with schema and views', 'config');
  const { schema, views } = input as { schema?: unknown; views?: unknown };
  const validSchema = validateEventSchema(schema);
  return { schema: validSchema, views: validateViewSpecs(views, validSchema, 'views') };
}
