/**
 * `--config <file>`: the user's own event schema and views, as YAML or JSON
 * `{ schema, views }`, resolved with core's `resolveDomain`. Every error names
 * the key at fault (`views[0].window`, `schema.fields.ts.type`) and the file.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError, LambdalineError, defaultDomain, resolveDomain, type Domain, type EventSchema } from '@lambdaline/core';
import { parse as parseYaml, YAMLParseError } from 'yaml';

const TOP_LEVEL_KEYS = ['schema', 'views'] as const;

/** A domain plus where it came from, for messages. */
export interface LoadedDomain extends Domain {
  readonly source: string;
  /** True when the schema is core's default sensor schema (the generators' events fit it). */
  readonly defaultSchema: boolean;
}

/** Parses and validates config text; `name` is used in messages. */
export function parseDomainConfig(text: string, name: string, format: 'yaml' | 'json'): LoadedDomain {
  let input: unknown;
  if (format === 'json') {
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`config: ${name} is not valid JSON: ${(error as Error).message}`, 'config');
    }
  } else {
    try {
      input = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
      throw new ConfigError(`config: ${name} is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`, 'config');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(`config: ${name} must hold an object with the keys schema and views`, 'config');
  }
  for (const key of Object.keys(input)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`${key}: unknown key in ${name}; a config has ${TOP_LEVEL_KEYS.join(' and ')}`, key);
    }
  }
  for (const key of TOP_LEVEL_KEYS) {
    if (!(key in input)) throw new ConfigError(`${key}: missing in ${name}`, key);
  }
  let domain;
  try {
    domain = resolveDomain(input);
  } catch (error) {
    if (error instanceof LambdalineError && error.field !== undefined) {
      // Keep the class (SchemaError, ViewSpecError) and the field; say which file.
      const wrapped = new ConfigError(`${error.message} (in ${name})`, error.field);
      throw wrapped;
    }
    throw error;
  }
  return { schema: domain.schema, views: domain.views, source: name, defaultSchema: sameSchema(domain.schema, defaultDomain.schema) };
}

/** Reads `--config`; without a file, core's default domain (sensor events, two views). */
export async function loadDomain(path: string | undefined): Promise<LoadedDomain> {
  if (path === undefined) return { ...defaultDomain, source: 'the default domain', defaultSchema: true };
  const ext = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new ConfigError(`config: ${path} must end in .yaml, .yml or .json`, 'config');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'config');
  }
  return parseDomainConfig(text, path, ext === '.json' ? 'json' : 'yaml');
}

function canonical(schema: EventSchema): string {
  const fields = Object.entries(schema.fields)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, spec]) => [name, Object.entries(spec).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))]);
  return JSON.stringify([schema.name, schema.timeField, schema.idField ?? null, fields]);
}

export function sameSchema(a: EventSchema, b: EventSchema): boolean {
  return canonical(a) === canonical(b);
}
