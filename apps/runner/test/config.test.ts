import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, defaultDomain } from '@lambdaline/core';
import { describe, expect, it } from 'vitest';
import { loadDomain, parseDomainConfig, sameSchema } from '../src/config.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

const sensorSchemaYaml = `
schema:
  name: s
  timeField: ts
  fields:
    ts: { type: timestamp }
    sensor: { type: string }
    v: { type: number }
`;

describe('--config', () => {
  it('loads the example files', async () => {
    const sensor = await loadDomain(join(examples, 'sensor-views.yaml'));
    expect(sensor.defaultSchema).toBe(true);
    expect(sensor.views.map((v) => v.name)).toEqual(['daily_by_category', 'sensor_5min', 'hourly_status']);
    const orders = await loadDomain(join(examples, 'orders.json'));
    expect(orders.defaultSchema).toBe(false);
    expect(orders.views.map((v) => v.name)).toEqual(['store_hourly', 'channel_daily']);
  });

  it('defaults to core\'s domain', async () => {
    const domain = await loadDomain(undefined);
    expect(domain.defaultSchema).toBe(true);
    expect(domain.views).toBe(defaultDomain.views);
    expect(sameSchema(domain.schema, defaultDomain.schema)).toBe(true);
  });

  it('names the key at fault', () => {
    const yaml = (views: string) => `${sensorSchemaYaml}views:\n${views}`;
    expect(fieldOf(() => parseDomainConfig(yaml('  - { name: x, window: 7m, dimensions: [], measures: [{ name: n, op: count }] }'), 'c.yaml', 'yaml'))).toBe('views[0].window');
    expect(fieldOf(() => parseDomainConfig(yaml('  - { name: x, window: 5m, dimensions: [nope], measures: [{ name: n, op: count }] }'), 'c.yaml', 'yaml'))).toBe('views[0].dimensions[0]');
    expect(fieldOf(() => parseDomainConfig(yaml('  - { name: x, window: 5m, dimensions: [sensor], measures: [{ name: n, op: avg, field: sensor }] }'), 'c.yaml', 'yaml'))).toBe(
      'views[0].measures[0].field',
    );
    expect(fieldOf(() => parseDomainConfig(`${sensorSchemaYaml.replace('timestamp', 'string')}views: []`, 'c.yaml', 'yaml'))).toBe('schema.timeField');
    expect(fieldOf(() => parseDomainConfig(`${sensorSchemaYaml}views: []\nextra: 1`, 'c.yaml', 'yaml'))).toBe('extra');
    expect(fieldOf(() => parseDomainConfig(sensorSchemaYaml, 'c.yaml', 'yaml'))).toBe('views');
    expect(fieldOf(() => parseDomainConfig('schema: [1\n', 'c.yaml', 'yaml'))).toBe('config');
    expect(fieldOf(() => parseDomainConfig('{"schema": ', 'c.json', 'json'))).toBe('config');
    expect(fieldOf(() => parseDomainConfig('- 1', 'c.yaml', 'yaml'))).toBe('config');
  });

  it('messages say which file', () => {
    expect(() => parseDomainConfig(`${sensorSchemaYaml}views:\n  - { name: x, window: 7m, dimensions: [], measures: [{ name: n, op: count }] }`, 'my.yaml', 'yaml')).toThrow(
      /views\[0\]\.window.*\(in my\.yaml\)/,
    );
  });

  it('refuses unreadable files and unknown extensions', async () => {
    await expect(loadDomain('/nonexistent/c.yaml')).rejects.toThrow(/cannot read \/nonexistent\/c\.yaml/);
    await expect(loadDomain('config.toml')).rejects.toThrow(/must end in \.yaml, \.yml or \.json/);
  });
});
