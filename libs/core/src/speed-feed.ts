/**
 * The wire format of the speed layer's view feed: upserts to a compacted Kafka
 * topic, so a serving layer in another process can follow the speed views.
 *
 * Two kinds of message, keyed so that compaction keeps the latest of each:
 *
 *   row|<view>|<topic>|<partition>|<rowKey>  → { e: epoch, s: seq, w, d, p }   (null = row removed)
 *   mark|<topic>|<partition>                 → { e, s, base, next, maxEventTime, watermark, at }
 *
 * A writer publishes the rows that changed in one flush, then a mark with the
 * same epoch and seq. A reader (`SpeedFeedReader`) stages rows and applies them
 * only when their mark arrives, so it never exposes half a flush. A new epoch
 * (restart, reassignment, new horizon) starts the partition over: its first
 * mark replaces everything held for that partition, so rows a previous owner
 * left behind are never counted.
 *
 * All messages of one source partition must go to the same feed partition, in
 * order (key them by `speedFeedPartitionKey`).
 *
 * Epochs must sort (as strings) in the order they were created, across writers:
 * e.g. a fixed-width time prefix. During a rebalance the previous owner of a
 * partition may still have a flush on the wire after the new owner's first
 * mark; the reader ignores messages of an epoch older than the committed one,
 * so such a late flush cannot bring the old state back.
 */
import type { SpeedPartitionView } from './contracts.js';
import { FormatError } from './errors.js';
import type { MeasurePart } from './measures.js';
import { rowKey, sortRows, type DimensionValue, type ViewRow } from './view-rows.js';

export interface SpeedFeedMark {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: string;
  readonly seq: number;
  readonly baseOffset: string;
  readonly nextOffset: string;
  readonly maxEventTime: number | null;
  readonly watermark: number | null;
  /** Epoch ms when the writer published it. */
  readonly at: number;
}

export interface SpeedFeedMessage {
  readonly key: string;
  /** JSON text, or null for a tombstone. */
  readonly value: string | null;
}

/** The Kafka message key that keeps every message of a source partition in order. */
export function speedFeedPartitionKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}

export function encodeSpeedFeedRow(
  view: string,
  topic: string,
  partition: number,
  row: ViewRow,
  epoch: string,
  seq: number,
  /** The row's `rowKey`, when the caller already has it (it costs a JSON.stringify of the dims). */
  key: string = rowKey(row.windowStart, row.dims),
): SpeedFeedMessage {
  return {
    key: `row|${view}|${topic}|${partition}|${key}`,
    value: JSON.stringify({ e: epoch, s: seq, w: row.windowStart, d: row.dims, p: row.parts }),
  };
}

export function encodeSpeedFeedTombstone(view: string, topic: string, partition: number, key: string): SpeedFeedMessage {
  return { key: `row|${view}|${topic}|${partition}|${key}`, value: null };
}

export function encodeSpeedFeedMark(mark: SpeedFeedMark): SpeedFeedMessage {
  return {
    key: `mark|${mark.topic}|${mark.partition}`,
    value: JSON.stringify({
      e: mark.epoch,
      s: mark.seq,
      base: mark.baseOffset,
      next: mark.nextOffset,
      maxEventTime: mark.maxEventTime,
      watermark: mark.watermark,
      at: mark.at,
    }),
  };
}

interface StagedRow {
  readonly view: string;
  readonly key: string;
  readonly seq: number;
  /** null = remove. */
  readonly row: ViewRow | null;
}

interface PartitionState {
  mark: SpeedFeedMark | null;
  rows: Map<string, Map<string, ViewRow>>;
  /** View name → its sorted rows, kept until one of its rows changes (so unchanged views keep their array). */
  sorted: Map<string, ViewRow[]>;
  /** Epoch → rows waiting for their mark. */
  staged: Map<string, StagedRow[]>;
  /** Epoch of the last message seen, to place tombstones (which carry no epoch). */
  lastEpoch: string | null;
  lastSeq: number;
}

/**
 * Folds feed messages, in order, into the committed speed views. Pure: no
 * Kafka here, so it is tested without a broker and any transport can feed it.
 */
export class SpeedFeedReader {
  private readonly partitions = new Map<string, PartitionState>();

  /**
   * Applies one message. Returns the partition view when the message was a
   * mark that committed a new state, otherwise null.
   */
  apply(key: string, value: string | null): SpeedPartitionView | null {
    if (key.startsWith('mark|')) return this.applyMark(key, value);
    if (key.startsWith('row|')) {
      this.applyRow(key, value);
      return null;
    }
    throw new FormatError(`speed feed key ${JSON.stringify(key.slice(0, 80))}: expected row|... or mark|...`, { field: 'key' });
  }

  /** Committed views of every partition seen. */
  views(): SpeedPartitionView[] {
    const out: SpeedPartitionView[] = [];
    for (const state of this.partitions.values()) if (state.mark) out.push(this.toView(state, state.mark));
    return out;
  }

  private state(topic: string, partition: number): PartitionState {
    const id = speedFeedPartitionKey(topic, partition);
    let state = this.partitions.get(id);
    if (!state) {
      state = { mark: null, rows: new Map(), sorted: new Map(), staged: new Map(), lastEpoch: null, lastSeq: 0 };
      this.partitions.set(id, state);
    }
    return state;
  }

  private applyRow(key: string, value: string | null): void {
    // row|<view>|<topic>|<partition>|<rowKey>; the row key itself may contain '|'.
    const parts = key.split('|');
    if (parts.length < 5) throw new FormatError(`speed feed key ${JSON.stringify(key.slice(0, 80))}: malformed row key`, { field: 'key' });
    const [, view, topic, partitionText] = parts as [string, string, string, string];
    const partition = Number(partitionText);
    const rowId = parts.slice(4).join('|');
    const state = this.state(topic, partition);
    if (value === null) {
      if (state.lastEpoch === null) return; // a tombstone for a partition we know nothing of
      this.stage(state, state.lastEpoch, { view, key: rowId, seq: state.lastSeq + 1, row: null });
      return;
    }
    const decoded = JSON.parse(value) as { e: string; s: number; w: number; d: DimensionValue[]; p: Record<string, MeasurePart> };
    if (typeof decoded.e !== 'string' || typeof decoded.s !== 'number' || typeof decoded.w !== 'number' || !Array.isArray(decoded.d)) {
      throw new FormatError(`speed feed row ${JSON.stringify(key.slice(0, 80))}: expected { e, s, w, d, p }`, { field: 'value' });
    }
    // A tombstone that follows belongs to the flush in progress (seq decoded.s).
    if (state.mark !== null && decoded.e < state.mark.epoch) return; // a superseded owner's late write
    state.lastEpoch = decoded.e;
    state.lastSeq = decoded.s - 1;
    this.stage(state, decoded.e, { view, key: rowId, seq: decoded.s, row: { windowStart: decoded.w, dims: decoded.d, parts: decoded.p } });
  }

  private stage(state: PartitionState, epoch: string, row: StagedRow): void {
    let list = state.staged.get(epoch);
    if (!list) {
      list = [];
      state.staged.set(epoch, list);
    }
    list.push(row);
  }

  private applyMark(key: string, value: string | null): SpeedPartitionView | null {
    const [, topic, partitionText] = key.split('|') as [string, string, string];
    const partition = Number(partitionText);
    const state = this.state(topic, partition);
    if (value === null) {
      // The partition was given up for good: forget it.
      this.partitions.delete(speedFeedPartitionKey(topic, partition));
      return null;
    }
    const m = JSON.parse(value) as { e: string; s: number; base: string; next: string; maxEventTime: number | null; watermark: number | null; at: number };
    if (typeof m.e !== 'string' || typeof m.s !== 'number' || typeof m.base !== 'string' || typeof m.next !== 'string') {
      throw new FormatError(`speed feed mark ${key}: expected { e, s, base, next, ... }`, { field: 'value' });
    }
    const mark: SpeedFeedMark = {
      topic, partition, epoch: m.e, seq: m.s, baseOffset: m.base, nextOffset: m.next,
      maxEventTime: m.maxEventTime ?? null, watermark: m.watermark ?? null, at: m.at,
    };
    if (state.mark !== null && mark.epoch < state.mark.epoch) {
      state.staged.delete(mark.epoch); // a superseded owner's late flush: never committed
      return null;
    }
    if (state.mark === null || state.mark.epoch !== mark.epoch) {
      state.rows = new Map();
      state.sorted = new Map();
    }
    const staged = state.staged.get(mark.epoch) ?? [];
    const later: StagedRow[] = [];
    for (const entry of staged) {
      if (entry.seq > mark.seq) {
        later.push(entry);
        continue;
      }
      let view = state.rows.get(entry.view);
      if (!view) {
        view = new Map();
        state.rows.set(entry.view, view);
      }
      if (entry.row === null) view.delete(entry.key);
      else view.set(entry.key, entry.row);
      state.sorted.delete(entry.view);
    }
    // Rows of other epochs can never be committed any more: a mark of this epoch superseded them.
    state.staged = new Map(later.length > 0 ? [[mark.epoch, later]] : []);
    state.mark = mark;
    state.lastEpoch = mark.epoch;
    state.lastSeq = mark.seq;
    return this.toView(state, mark);
  }

  private toView(state: PartitionState, mark: SpeedFeedMark): SpeedPartitionView {
    const views: Record<string, ViewRow[]> = {};
    for (const [name, rows] of state.rows) {
      let sorted = state.sorted.get(name);
      if (!sorted) {
        sorted = sortRows([...rows.values()]);
        state.sorted.set(name, sorted);
      }
      views[name] = sorted;
    }
    return {
      topic: mark.topic,
      partition: mark.partition,
      epoch: mark.epoch,
      seq: mark.seq,
      baseOffset: mark.baseOffset,
      nextOffset: mark.nextOffset,
      maxEventTime: mark.maxEventTime,
      watermark: mark.watermark,
      updatedAt: mark.at,
      views,
    };
  }
}
