import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sensorEvent } from '../test/arbitraries.js';
import { sensor5minView, sensorEventSchema } from './default-domain.js';
import { FormatError } from './errors.js';
import {
  encodeSpeedFeedMark,
  encodeSpeedFeedRow,
  encodeSpeedFeedTombstone,
  SpeedFeedReader,
  type SpeedFeedMark,
  type SpeedFeedMessage,
} from './speed-feed.js';
import { diffViewRows, foldEvents, rowKey, type ViewRow } from './view-rows.js';
import { validateViewSpec } from './view-spec.js';

const spec = validateViewSpec(sensor5minView, sensorEventSchema);
const mark = (epoch: string, seq: number, next = '10'): SpeedFeedMark => ({
  topic: 'events', partition: 0, epoch, seq, baseOffset: '0', nextOffset: next, maxEventTime: 1, watermark: 0, at: 1,
});
const rowsMessages = (rows: ViewRow[], epoch: string, seq: number) =>
  rows.map((r) => encodeSpeedFeedRow(spec.name, 'events', 0, r, epoch, seq));

function feed(reader: SpeedFeedReader, messages: SpeedFeedMessage[]) {
  return messages.map((m) => reader.apply(m.key, m.value));
}

describe('SpeedFeedReader', () => {
  it('exposes rows only once their mark arrives', () => {
    fc.assert(
      fc.property(fc.array(sensorEvent, { minLength: 1, maxLength: 40 }), (events) => {
        const rows = foldEvents(spec, events);
        const reader = new SpeedFeedReader();
        feed(reader, rowsMessages(rows, 'e1', 1));
        expect(reader.views()).toEqual([]);
        const committed = reader.apply(encodeSpeedFeedMark(mark('e1', 1)).key, encodeSpeedFeedMark(mark('e1', 1)).value);
        expect(committed).not.toBeNull();
        expect(diffViewRows(spec, rows, committed!.views[spec.name] ?? [])).toEqual([]);
      }),
    );
  });

  it('applies updates and tombstones of later flushes in the same epoch', () => {
    const [a, b] = foldEvents(spec, [
      { event_id: '1', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_1', category: 'A', value1: 1, value2: 1, status: 'OK' },
      { event_id: '2', ts: '2024-05-01T10:05:00Z', sensor_id: 'sensor_1', category: 'A', value1: 2, value2: 1, status: 'OK' },
    ]) as [ViewRow, ViewRow];
    const reader = new SpeedFeedReader();
    feed(reader, [...rowsMessages([a, b], 'e1', 1), encodeSpeedFeedMark(mark('e1', 1))]);
    const a2: ViewRow = { ...a, parts: { ...a.parts, message_count: { count: 5 } } };
    feed(reader, [
      encodeSpeedFeedTombstone(spec.name, 'events', 0, rowKey(b.windowStart, b.dims)),
      ...rowsMessages([a2], 'e1', 2),
    ]);
    // Half a flush is not visible.
    expect(reader.views()[0]!.views[spec.name]).toHaveLength(2);
    const view = feed(reader, [encodeSpeedFeedMark(mark('e1', 2, '20'))])[0]!;
    expect(view.nextOffset).toBe('20');
    expect(view.views[spec.name]).toEqual([a2]);
  });

  it('replaces a partition wholesale when a new epoch commits, ignoring rows a previous owner left', () => {
    const rows = foldEvents(spec, [
      { event_id: '1', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_1', category: 'A', value1: 1, value2: 1, status: 'OK' },
      { event_id: '2', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_2', category: 'A', value1: 2, value2: 1, status: 'OK' },
    ]);
    const reader = new SpeedFeedReader();
    feed(reader, [...rowsMessages(rows, '0001-old', 1), encodeSpeedFeedMark(mark('0001-old', 1))]);
    // The old owner wrote a row after its last mark, then the new owner took over.
    feed(reader, [...rowsMessages(rows, '0001-old', 2), ...rowsMessages(rows.slice(0, 1), '0002-new', 1)]);
    const view = feed(reader, [encodeSpeedFeedMark(mark('0002-new', 1))])[0]!;
    expect(view.epoch).toBe('0002-new');
    expect(view.views[spec.name]).toEqual(rows.slice(0, 1));
  });

  it('ignores a superseded owner whose flush arrives after the new epoch committed', () => {
    const rows = foldEvents(spec, [
      { event_id: '1', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_1', category: 'A', value1: 1, value2: 1, status: 'OK' },
      { event_id: '2', ts: '2024-05-01T10:00:00Z', sensor_id: 'sensor_2', category: 'A', value1: 2, value2: 1, status: 'OK' },
    ]);
    const reader = new SpeedFeedReader();
    feed(reader, [...rowsMessages(rows, '0001-a', 1), encodeSpeedFeedMark(mark('0001-a', 1))]);
    feed(reader, [...rowsMessages(rows.slice(0, 1), '0002-b', 1), encodeSpeedFeedMark(mark('0002-b', 1))]);
    // The old owner's last flush was still on the wire.
    const late = feed(reader, [...rowsMessages(rows, '0001-a', 2), encodeSpeedFeedMark(mark('0001-a', 2))]);
    expect(late.every((v) => v === null)).toBe(true);
    expect(reader.views()[0]).toMatchObject({ epoch: '0002-b', views: { [spec.name]: rows.slice(0, 1) } });
  });

  it('forgets a partition on a mark tombstone', () => {
    const reader = new SpeedFeedReader();
    feed(reader, [encodeSpeedFeedMark(mark('e', 1))]);
    expect(reader.views()).toHaveLength(1);
    reader.apply('mark|events|0', null);
    expect(reader.views()).toHaveLength(0);
  });

  it('refuses keys it does not know', () => {
    expect(() => new SpeedFeedReader().apply('junk', '{}')).toThrow(FormatError);
  });
});
