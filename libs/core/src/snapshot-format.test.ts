import { mkdtemp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dailyByCategoryView, sensorEventSchema } from './default-domain.js';
import { FormatError } from './errors.js';
import { extendHorizon, emptyHorizon } from './horizon.js';
import {
  decodeViewRowLine,
  encodeViewRowLine,
  readCurrentSnapshot,
  SNAPSHOT_FORMAT,
  snapshotDirName,
  type SnapshotMeta,
} from './snapshot-format.js';
import { foldEvents } from './view-rows.js';
import { validateViewSpec } from './view-spec.js';

const spec = validateViewSpec(dailyByCategoryView, sensorEventSchema);
const rows = foldEvents(spec, [
  { event_id: '1', ts: '2024-05-01T10:00:00.000Z', sensor_id: 'sensor_1', category: 'A', value1: 1.5, value2: 3, status: 'OK' },
  { event_id: '2', ts: '2024-05-02T10:00:00.000Z', sensor_id: 'sensor_1', category: 'B', value1: 2.5, value2: 4, status: 'OK' },
]);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambdaline-snapshot-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function publish(version: number, lines = rows.map(encodeViewRowLine)) {
  const versionDir = join(dir, snapshotDirName(version));
  await mkdir(versionDir);
  await writeFile(join(versionDir, `${spec.name}.ndjson`), lines.join('\n') + '\n');
  const meta: SnapshotMeta = {
    format: SNAPSHOT_FORMAT,
    version,
    createdAt: new Date(0).toISOString(),
    horizon: extendHorizon(emptyHorizon(), 'events', 0, String(version * 10), 5),
    views: [{ name: spec.name, rows: rows.length, file: `${spec.name}.ndjson` }],
  };
  await writeFile(join(versionDir, 'snapshot.json'), JSON.stringify(meta));
  await writeFile(join(dir, 'CURRENT.tmp'), snapshotDirName(version));
  await rename(join(dir, 'CURRENT.tmp'), join(dir, 'CURRENT'));
}

describe('snapshot format', () => {
  it('reads nothing before the first publish', async () => {
    expect(await readCurrentSnapshot(dir)).toBeNull();
  });

  it('reads what CURRENT points at', async () => {
    await publish(1);
    await publish(2);
    const snapshot = await readCurrentSnapshot(dir);
    expect(snapshot?.version).toBe(2);
    expect(snapshot?.views[spec.name]).toEqual(rows);
    expect(snapshot?.horizon.partitions[0]?.endOffset).toBe('21');
  });

  it('round-trips rows through a line', () => {
    for (const row of rows) expect(decodeViewRowLine(encodeViewRowLine(row))).toEqual(row);
  });

  it('refuses a truncated view file', async () => {
    await publish(1, rows.slice(0, 1).map(encodeViewRowLine));
    await expect(readCurrentSnapshot(dir)).rejects.toThrow(FormatError);
  });

  it('refuses malformed lines naming where', () => {
    expect(() => decodeViewRowLine('{"w":"x"}', 'daily.ndjson:3')).toThrow(/daily\.ndjson:3/);
  });
});
