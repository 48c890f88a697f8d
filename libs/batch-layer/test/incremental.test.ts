import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultViews, sensorEventSchema, type LambdaEvent, type SourceRecord, type ViewSpec } from '@lambdaline/core';
import { openMasterDataset } from '../src/index.js';
import { DAY, expectSameViews, expectViewsEqualFold, sensorEvents, T0, tempDirsPerTest, validEvents, writeNdjson } from './helpers.js';

const temp = tempDirsPerTest();

/** Default views plus windows longer than a day (incremental must re-read whole windows) and a view on another time field. */
const views: ViewSpec[] = [
  ...defaultViews,
  { name: 'two_day_status', window: '2d', dimensions: ['status'], measures: [{ name: 'n', op: 'count' }, { name: 'hi', op: 'max', field: 'value1' }] },
  { name: 'weekly', window: '7d', dimensions: [], measures: [{ name: 's', op: 'sum', field: 'value2' }, { name: 'lo', op: 'min', field: 'value1' }] },
  { name: 'hourly_total', window: '1h', dimensions: ['category', 'status'], measures: [{ name: 'v', op: 'avg', field: 'value1' }] },
];

const stepArb = fc.record({
  kind: fc.constantFrom('file' as const, 'archive' as const, 'invalid-only' as const),
  days: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }),
  count: fc.integer({ min: 20, max: 300 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

describe('incremental and full batch runs', () => {
  it('give identical snapshots over random ingest sequences (property)', async () => {
    const tmp = temp();
    let sequence = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 2, maxLength: 6 }), async (steps) => {
        const dir = tmp.file(`ds-${sequence++}`);
        const ds = await openMasterDataset({ dir, views, durable: false, retention: false });
        const seen: LambdaEvent[] = [];
        let offset = 0;
        try {
          for (const [i, step] of steps.entries()) {
            const rows = step.days.flatMap((d, j) => sensorEvents(step.seed + j, step.count, { start: T0 + d * DAY, days: 1, idPrefix: `q${i}-` }));
            if (step.kind === 'file') {
              await ds.ingestFiles(writeNdjson(tmp.file(`in-${sequence}-${i}.ndjson`), rows));
              seen.push(...validEvents(sensorEventSchema, rows));
            } else {
              const values = step.kind === 'invalid-only' ? rows.map(() => '{"not":"an event"}') : rows.map((r) => JSON.stringify(r));
              const records: SourceRecord[] = values.map((value) => ({ topic: 'events', partition: 0, offset: String(offset++), value }));
              await ds.archive(records, { chunkRecords: 97 });
              if (step.kind === 'archive') seen.push(...validEvents(sensorEventSchema, rows));
            }
            const before = ds.latest();
            const incremental = await ds.runBatch({ mode: 'incremental' });
            if (before !== null) {
              expect(incremental.run?.mode).toBe('incremental');
              expect(incremental.version).toBe(before.version + 1);
            }
            expectViewsEqualFold(sensorEventSchema, views, incremental, seen);
          }
          const lastIncremental = ds.latest()!;
          const full = await ds.runBatch({ mode: 'full' });
          expect(full.run?.mode).toBe('full');
          expectSameViews(sensorEventSchema, views, lastIncremental, full);
          expect(full.horizon).toEqual(lastIncremental.horizon);
        } finally {
          await ds.close();
        }
      }),
      { numRuns: 8, seed: 42 },
    );
  });

  it('recomputes only the days that received files, keeping the rest', async () => {
    const tmp = temp();
    const ds = await openMasterDataset({ dir: tmp.file('ds'), views: defaultViews, durable: false });
    const history = sensorEvents(1, 3_000, { days: 10 });
    await ds.ingestFiles(writeNdjson(tmp.file('history.ndjson'), history));
    const first = await ds.runBatch();
    expect(first.run).toMatchObject({ mode: 'full', daysRecomputed: 10, recordCount: 3_000 });
    const late = sensorEvents(2, 200, { start: T0 + 4 * DAY, days: 1 });
    await ds.ingestFiles(writeNdjson(tmp.file('late.ndjson'), late));
    const second = await ds.runBatch();
    expect(second.run).toMatchObject({ mode: 'incremental', daysRecomputed: 1, recordCount: 3_200 });
    expectViewsEqualFold(sensorEventSchema, defaultViews, second, validEvents(sensorEventSchema, [...history, ...late]));
    // Nothing new: no new version.
    const third = await ds.runBatch();
    expect(third.version).toBe(second.version);
    // Unless forced: a new version with the same rows.
    const forced = await ds.runBatch({ force: true });
    expect(forced.version).toBe(second.version + 1);
    expectSameViews(sensorEventSchema, defaultViews, second, forced);
    await ds.close();
  });

  it('recomputes a view fully when its spec changed since the previous snapshot', async () => {
    const tmp = temp();
    const history = sensorEvents(5, 1_000, { days: 3 });
    const path = writeNdjson(tmp.file('h.ndjson'), history);
    const a = await openMasterDataset({ dir: tmp.file('ds'), durable: false });
    await a.ingestFiles(path);
    await a.runBatch();
    await a.close();
    const changed: ViewSpec[] = [{ ...defaultViews[0]!, window: '1h' }, defaultViews[1]!];
    const b = await openMasterDataset({ dir: tmp.file('ds'), views: changed, durable: false });
    const snapshot = await b.runBatch();
    expect(snapshot.run?.mode).toBe('full');
    expectViewsEqualFold(sensorEventSchema, changed, snapshot, validEvents(sensorEventSchema, history));
    await b.close();
  });
});
