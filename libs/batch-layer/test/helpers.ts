/** Test helpers: seeded events, temp dirs, and the independent reference computation. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import {
  diffViewRows,
  foldEvents,
  parseEvent,
  rowKey,
  validateEvent,
  validateViewSpecs,
  type BatchSnapshot,
  type EventSchema,
  type LambdaEvent,
  type ResolvedViewSpec,
  type ViewSpec,
} from '@lambdaline/core';
import { mulberry32 } from '../../../tools/testing/random.ts';

/** mulberry32: small, fast, seeded (shared with the other libs' tests). */
export const rng = mulberry32;

const CATEGORIES = ['A', 'B', 'C', 'D'];
const STATUSES = ['OK', 'WARNING', 'ERROR'];
export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 4, 1);

/** Valid sensor events (core's default schema) spread over `days` days from `start`. */
export function sensorEvents(seed: number, count: number, options: { start?: number; days?: number; sensors?: number; idPrefix?: string } = {}): Record<string, unknown>[] {
  const random = rng(seed);
  const start = options.start ?? T0;
  const span = (options.days ?? 3) * DAY;
  const sensors = options.sensors ?? 12;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      event_id: `${options.idPrefix ?? 's'}${seed}-${i}`,
      ts: new Date(start + Math.floor(random() * span)).toISOString(),
      sensor_id: `sensor_${1 + Math.floor(random() * sensors)}`,
      category: CATEGORIES[Math.floor(random() * 4)],
      value1: Math.round((random() * 200 - 50) * 1000) / 1000,
      value2: 1 + Math.floor(random() * 99),
      status: STATUSES[Math.floor(random() * 3)],
    });
  }
  return out;
}

export function writeNdjson(path: string, rows: readonly unknown[]): string {
  writeFileSync(path, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return path;
}

export function writeCsv(path: string, header: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  writeFileSync(path, [header.join(','), ...rows.map((r) => header.map((h) => cell(r[h])).join(','))].join('\n') + '\n');
  return path;
}

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  cleanup(): void;
}

export function tempDir(prefix = 'batch-layer-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * For a test file: returns `temp()`, which makes a temp dir that is removed
 * after the test that made it. Call once at the top level of the file.
 */
export function tempDirsPerTest(prefix?: string): () => TempDir {
  let dirs: TempDir[] = [];
  afterEach(() => {
    for (const d of dirs) d.cleanup();
    dirs = [];
  });
  return () => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}

/** The valid events among raw inputs, normalised exactly as the validator does. */
export function validEvents(schema: EventSchema, inputs: readonly unknown[]): LambdaEvent[] {
  const out: LambdaEvent[] = [];
  for (const input of inputs) {
    const r = typeof input === 'string' ? parseEvent(schema, input) : validateEvent(schema, input);
    if (r.ok) out.push(r.event);
  }
  return out;
}

/** Asserts that every view of the snapshot equals core's plain fold over `events`. */
export function expectViewsEqualFold(schema: EventSchema, views: readonly ViewSpec[], snapshot: BatchSnapshot | null, events: readonly LambdaEvent[]): void {
  expect(snapshot).not.toBeNull();
  const specs: ResolvedViewSpec[] = validateViewSpecs(views, schema);
  for (const spec of specs) {
    const actual = snapshot!.views[spec.name];
    expect(actual, `view ${spec.name}`).toBeDefined();
    const expected = foldEvents(spec, events);
    const differences = diffViewRows(spec, expected, actual!);
    expect(differences.slice(0, 5), `view ${spec.name}: ${differences.length} differences`).toEqual([]);
    expect(actual!.map((r) => rowKey(r.windowStart, r.dims)), `view ${spec.name}: row order`).toEqual(expected.map((r) => rowKey(r.windowStart, r.dims)));
  }
}

/** Asserts two snapshots hold the same rows (sums within float tolerance). */
export function expectSameViews(schema: EventSchema, views: readonly ViewSpec[], a: BatchSnapshot, b: BatchSnapshot): void {
  for (const spec of validateViewSpecs(views, schema)) {
    const differences = diffViewRows(spec, a.views[spec.name]!, b.views[spec.name]!);
    expect(differences.slice(0, 5), `view ${spec.name}: ${differences.length} differences`).toEqual([]);
  }
}
