/**
 * The speed layer: a source (Kafka or in-process) in, exact per-partition
 * event-time views out.
 *
 * Exactness (see README "How the boundary stays exact"): every assigned
 * partition holds the views over exactly the records with offsets in
 * [base, next), base being the batch horizon's end offset for the partition.
 * On start and on assignment the partition is rebuilt from the horizon by
 * seeking there; on a new horizon it is rebuilt at the new end offset (a new
 * epoch) by refolding the records it keeps in a compact replay buffer, or by
 * seeking back when the buffer does not reach that far. Nothing is persisted
 * locally: after a crash the views are rebuilt from the horizon, which makes
 * them equal to a fold over exactly the records they cover.
 */
import {
  assertParam,
  ConfigError,
  decodeHorizon,
  defaultDomain,
  emptyHorizon,
  finalizeRow,
  formatTimestamp,
  horizonEndOffset,
  horizonKey,
  horizonPartition,
  mergeViewRows,
  parseEvent,
  rawText,
  resolveDomain,
  type BatchSnapshotSource,
  type DeadLetter,
  type Domain,
  type EventSchema,
  type FinalRow,
  type Horizon,
  type PartitionLag,
  type ResolvedViewSpec,
  type SpeedChange,
  type SpeedPartitionView,
  type SpeedStatus,
  type SpeedViewSource,
  type Unsubscribable,
  type ViewRow,
} from '@lambdaline/core';
import { Observable, Subject } from 'rxjs';
import { formatDuration, parseDuration, type Duration } from './duration.js';
import { SpeedLayerError } from './errors.js';
import { partitionKey, PartitionState } from './partition-state.js';
import { Projection, ReplayBuffer } from './replay-buffer.js';
import type { DeadLetterRecord, DeadLetterSink, SourceBatch, SourceHandler, SpeedSource, TopicPartition } from './source.js';

export interface SpeedLayerOptions {
  /** Where records come from: `kafkaSource(...)` or `inProcessSource(log, ...)`. */
  readonly source: SpeedSource;
  /** Schema and views. Default: core's `defaultDomain` (sensor events, `daily_by_category` and `sensor_5min`). */
  readonly domain?: Domain;
  /** The batch horizon to start from. Default: `batchSnapshots.latest()`'s, else empty (read from offset 0). */
  readonly horizon?: Horizon;
  /** Follow a batch layer: start from its latest horizon, then `setHorizon` on every new snapshot. */
  readonly batchSnapshots?: BatchSnapshotSource;
  /**
   * An event is too late when its event time is below (the largest event time
   * of every earlier valid record of its partition) − allowedLateness. Default `"1h"`.
   */
  readonly allowedLateness?: Duration;
  /**
   * Windows that end at or before (largest event time of the partition) −
   * retention are evicted. At least `allowedLateness`. Default `"2d"`.
   */
  readonly retention?: Duration;
  /** Where dead letters go. Default: the source's (Kafka: `<topic>.dead-letters`). */
  readonly deadLetterSink?: DeadLetterSink;
  /**
   * Records kept in memory (over all partitions, about 50 bytes each) to rebuild
   * a partition at a new horizon without reading the log again. When exceeded,
   * the oldest are dropped and such a rebuild seeks back instead. 0 = always
   * seek. Default 1,000,000.
   */
  readonly replayBufferRecords?: number;
  /** Least time between two emitted changes (they are coalesced meanwhile). Default 10 ms. */
  readonly emitIntervalMs?: number;
  /** How often consumed offsets are committed (monitoring, dead-letter dedup). Default 1000 ms. */
  readonly commitIntervalMs?: number;
  /** Dead letters awaiting delivery above which consuming waits for them. Default 10,000. */
  readonly maxPendingDeadLetters?: number;
  /** Clock for `updatedAt` and `rejected-at` (tests). Default `Date.now`. */
  readonly clock?: () => number;
}

/** The rows that changed in one partition since its previous delta. */
export interface SpeedPartitionDelta extends Omit<SpeedPartitionView, 'views'> {
  /** True for the first delta of an epoch: `upserts` then holds every row and replaces all. */
  readonly reset: boolean;
  /** View name → rows created or changed (all rows when `reset`). */
  readonly upserts: Readonly<Record<string, readonly ViewRow[]>>;
  /** View name → keys (core `rowKey`) of rows removed (evicted windows). */
  readonly removed: Readonly<Record<string, readonly string[]>>;
}

/** Like `SpeedChange`, with row-level deltas instead of whole partition views. */
export interface SpeedDelta {
  readonly updated: readonly SpeedPartitionDelta[];
  readonly removed: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

export type SpeedLayerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface SpeedLayerStatus extends SpeedStatus {
  readonly state: SpeedLayerState;
  readonly source: string;
  readonly horizon: string;
  /** Dead letters rejected but not yet durably delivered. */
  readonly deadLetterBacklog: number;
  /** Records held in replay buffers. */
  readonly bufferedRecords: number;
  /** Rebuilds since start, by how they were done. */
  readonly rebuilds: { readonly refold: number; readonly seek: number };
  /** Recent errors, newest last (at most 20). */
  readonly errors: ReadonlyArray<{ readonly at: string; readonly code: string; readonly message: string; readonly retriable: boolean }>;
}

const DEFAULTS = {
  allowedLateness: 3_600_000,
  retention: 2 * 86_400_000,
  replayBufferRecords: 1_000_000,
  emitIntervalMs: 10,
  commitIntervalMs: 1_000,
  maxPendingDeadLetters: 10_000,
} as const;

const DEAD_LETTER_CHUNK = 500;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let instanceCounter = 0;

export class SpeedLayer implements SpeedViewSource {
  /** Emits, in order, the partition views that changed and the partitions given up. */
  readonly changes: Observable<SpeedChange>;
  /** The same changes as row-level deltas (what the feed publisher writes). */
  readonly deltas: Observable<SpeedDelta>;
  /** Every rejected record (invalid or too late), as it is rejected. */
  readonly deadLetters: Observable<DeadLetter>;
  /** Run-time errors (broker, dead-letter delivery, data loss); also in `status().errors`. */
  readonly errors: Observable<SpeedLayerError>;

  readonly schema: EventSchema;
  readonly views: readonly ResolvedViewSpec[];
  readonly allowedLatenessMs: number;
  readonly retentionMs: number;

  private readonly source: SpeedSource;
  private readonly sink: DeadLetterSink;
  private readonly projection: Projection;
  private readonly bufferCap: number;
  private readonly emitIntervalMs: number;
  private readonly commitIntervalMs: number;
  private readonly maxPendingDeadLetters: number;
  private readonly clock: () => number;
  private readonly instanceId: string;
  private epochCounter = 0;

  private currentHorizon: Horizon;
  private state: SpeedLayerState = 'created';
  private readonly partitionStates = new Map<string, PartitionState>();
  /** Per partition (key): offsets below are replays whose dead letters were already delivered. */
  private readonly deadLetterFrom = new Map<string, number>();
  private readonly committedOffsets = new Map<string, number>();
  private readonly committedLoading = new Map<string, Promise<void>>();
  /** Per partition: offsets of dead letters not yet delivered, in order. */
  private readonly undelivered = new Map<string, number[]>();
  private pendingRemoved: TopicPartition[] = [];

  private readonly changesSubject = new Subject<SpeedChange>();
  private readonly deltasSubject = new Subject<SpeedDelta>();
  private readonly deadLettersSubject = new Subject<DeadLetter>();
  private readonly errorsSubject = new Subject<SpeedLayerError>();

  private flushTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  private lastFlushAt = 0;
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> | null = null;

  private deadLetterQueue: DeadLetterRecord[] = [];
  private draining: Promise<void> | null = null;
  private deadLetterCounts: Record<string, number> = {};
  private eventsTotal = 0;
  private rateSamples: Array<[number, number]> = [];
  private readonly recentErrors: Array<{ at: string; code: string; message: string; retriable: boolean }> = [];
  private rebuilds = { refold: 0, seek: 0 };
  private snapshotSubscription: Unsubscribable | null = null;

  constructor(options: SpeedLayerOptions) {
    assertParam(typeof options === 'object' && options !== null, 'options', 'must be an object');
    const source = options.source;
    assertParam(
      typeof source === 'object' && source !== null && typeof source.start === 'function' && typeof source.seek === 'function',
      'source',
      'must be a speed-layer source: kafkaSource({...}) or inProcessSource(log, {...})',
    );
    const domain = resolveDomain(options.domain ?? defaultDomain);
    this.schema = domain.schema;
    this.views = domain.views;
    this.allowedLatenessMs = parseDuration(options.allowedLateness ?? DEFAULTS.allowedLateness, 'allowedLateness');
    this.retentionMs = parseDuration(options.retention ?? DEFAULTS.retention, 'retention');
    if (this.retentionMs < this.allowedLatenessMs) {
      throw new ConfigError(
        `retention: ${formatDuration(this.retentionMs)} is shorter than allowedLateness ${formatDuration(this.allowedLatenessMs)}; an event still on time could land in an evicted window`,
        'retention',
      );
    }
    this.bufferCap = integerOption(options.replayBufferRecords, DEFAULTS.replayBufferRecords, 'replayBufferRecords', 0);
    this.emitIntervalMs = integerOption(options.emitIntervalMs, DEFAULTS.emitIntervalMs, 'emitIntervalMs', 0);
    this.commitIntervalMs = integerOption(options.commitIntervalMs, DEFAULTS.commitIntervalMs, 'commitIntervalMs', 1);
    this.maxPendingDeadLetters = integerOption(options.maxPendingDeadLetters, DEFAULTS.maxPendingDeadLetters, 'maxPendingDeadLetters', 1);
    assertParam(options.clock === undefined || typeof options.clock === 'function', 'clock', 'must be a function returning epoch ms');
    this.clock = options.clock ?? Date.now;
    this.source = source;
    this.sink = options.deadLetterSink ?? source.deadLetterSink();
    assertParam(typeof this.sink?.deliver === 'function', 'deadLetterSink', 'must have a deliver(records) method');
    this.projection = new Projection(this.schema, this.views);
    this.currentHorizon = options.horizon !== undefined
      ? decodeHorizon(options.horizon, 'horizon')
      : options.batchSnapshots?.latest()?.horizon ?? emptyHorizon();
    this.instanceId = `${process.pid.toString(36)}${(instanceCounter++).toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
    this.changes = this.changesSubject.asObservable();
    this.deltas = this.deltasSubject.asObservable();
    this.deadLetters = this.deadLettersSubject.asObservable();
    this.errors = this.errorsSubject.asObservable();
    if (options.batchSnapshots) {
      const snapshots = options.batchSnapshots;
      this.snapshotSubscription = snapshots.snapshots.subscribe({ next: (s) => this.setHorizon(s.horizon) });
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Connects the source and starts consuming; resolves once partitions are assigned. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new ConfigError(`start: the speed layer is ${this.state}; create a new one to start again`, 'start');
    this.state = 'starting';
    const handler: SourceHandler = {
      assigned: (partitions) => this.onAssigned(partitions),
      batch: (batch) => this.onBatch(batch),
      failed: (error) => this.fail(error),
    };
    try {
      await this.source.start(handler);
    } catch (error) {
      this.state = 'failed';
      this.report(error instanceof SpeedLayerError ? error : new SpeedLayerError('broker', `starting the source: ${(error as Error).message}`, { retriable: true, cause: error }));
      throw error;
    }
    if (this.state === 'starting') this.state = 'running';
    this.commitTimer = setInterval(() => void this.commitNow(), this.commitIntervalMs);
    this.commitTimer.unref?.();
  }

  /**
   * Stops consuming, publishes the last changes, waits (up to `timeoutMs`) for
   * pending dead letters, commits, and completes the streams. Final.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.snapshotSubscription?.unsubscribe();
    if (this.commitTimer) clearInterval(this.commitTimer);
    const deadline = Date.now() + timeoutMs;
    await this.source.stop().catch((error: unknown) => this.report(new SpeedLayerError('broker', `stopping the source: ${(error as Error).message}`, { retriable: true, cause: error })));
    this.flush();
    while (this.deadLetterQueue.length > 0 && Date.now() < deadline) {
      this.kickDeadLetters();
      await Promise.race([this.draining, sleep(Math.max(0, deadline - Date.now()))]);
    }
    await this.commitNow();
    await this.sink.close?.().catch(() => undefined);
    this.state = 'stopped';
    for (const subject of [this.changesSubject, this.deltasSubject, this.deadLettersSubject, this.errorsSubject]) (subject as Subject<unknown>).complete();
  }

  // ---------------------------------------------------------------- horizon

  /** The batch horizon the views are built from. */
  horizon(): Horizon {
    return this.currentHorizon;
  }

  /**
   * Adopts a new batch horizon. Every held partition whose end offset changed
   * is rebuilt to start exactly there, with a new epoch: by refolding buffered
   * records when the new offset is within what was read, otherwise by seeking
   * (forward: records below it are skipped; backward: they are read again).
   */
  setHorizon(horizon: Horizon): void {
    const next = decodeHorizon(horizon, 'horizon');
    this.currentHorizon = next;
    for (const old of [...this.partitionStates.values()]) {
      const end = Number(horizonEndOffset(next, old.topic, old.partition));
      if (end === old.base) continue;
      const seed = horizonPartition(next, old.topic, old.partition).maxEventTime;
      this.deadLetterFrom.set(old.key, Math.max(this.deadLetterFrom.get(old.key) ?? 0, old.awaiting === null ? old.next : 0));
      const position = old.awaiting ?? old.next;
      if (old.awaiting === null && end > old.base && end <= old.next && old.buffer !== null && old.buffer.covers(end)) {
        this.partitionStates.set(old.key, this.refold(old, end, seed));
        this.rebuilds.refold++;
      } else {
        const state = this.freshState(old.topic, old.partition, end, seed);
        state.highWatermark = old.highWatermark;
        if (end !== position) {
          state.awaiting = end;
          this.source.seek(old.topic, old.partition, String(end));
        } else {
          state.awaiting = old.awaiting;
        }
        this.partitionStates.set(old.key, state);
        this.rebuilds.seek++;
      }
    }
    this.flushSoon(true);
  }

  // ---------------------------------------------------------------- reading

  /** Every partition held now, each as of its latest update. */
  partitions(): SpeedPartitionView[] {
    this.flush();
    return [...this.partitionStates.values()].filter((s) => s.seq > 0).map((s) => s.snapshot(this.allowedLatenessMs));
  }

  partition(topic: string, partition: number): SpeedPartitionView | undefined {
    this.flush();
    const state = this.partitionStates.get(partitionKey(topic, partition));
    return state && state.seq > 0 ? state.snapshot(this.allowedLatenessMs) : undefined;
  }

  /** One view merged over every partition this instance holds (rows as monoid parts). */
  view(name: string): ViewRow[] {
    const index = this.viewIndex(name);
    this.flush();
    const spec = this.views[index]!;
    return mergeViewRows(spec, ...[...this.partitionStates.values()].map((s) => s.views[index]!.rows()));
  }

  /** `view(name)` with parts finalised to numbers (`{ window_start, <dims>, <measures> }`). */
  finalView(name: string): FinalRow[] {
    const spec = this.views[this.viewIndex(name)]!;
    return this.view(name).map((row) => finalizeRow(spec, row));
  }

  status(): SpeedLayerStatus {
    const partitions: PartitionLag[] = [...this.partitionStates.values()]
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map((s) => {
        const position = s.awaiting ?? s.next;
        return {
          topic: s.topic,
          partition: s.partition,
          nextOffset: String(position),
          highWatermark: s.highWatermark === null ? null : String(s.highWatermark),
          lag: s.highWatermark === null ? null : Math.max(0, s.highWatermark - position),
        };
      });
    let buffered = 0;
    for (const s of this.partitionStates.values()) buffered += s.buffer?.size ?? 0;
    return {
      state: this.state,
      source: this.source.kind,
      horizon: horizonKey(this.currentHorizon),
      partitions,
      eventsPerSecond: this.rate(),
      eventsTotal: this.eventsTotal,
      deadLetters: { ...this.deadLetterCounts },
      deadLetterBacklog: this.deadLetterQueue.length,
      bufferedRecords: buffered,
      rebuilds: { ...this.rebuilds },
      errors: [...this.recentErrors],
    };
  }

  /**
   * Resolves once every held partition has read up to the log end offsets as
   * they are when called, the change is published and the dead letters are
   * delivered. For tests and demos.
   */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    const ends = await this.source.endOffsets();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.flush();
      let behind = this.partitionStates.size === 0 && this.state !== 'running';
      for (const s of this.partitionStates.values()) {
        const end = Number(ends.get(s.partition) ?? 0);
        // A partition waiting for its seek is complete up to `next` (= the seek target).
        if (s.next < end || s.seq === 0) behind = true;
      }
      if (this.deadLetterQueue.length > 0) behind = true;
      if (!behind) return;
      if (this.state === 'failed' || this.state === 'stopped') throw new SpeedLayerError('consumer_failed', `caughtUp: the speed layer is ${this.state}`, { retriable: false });
      if (Date.now() > deadline) throw new SpeedLayerError('broker', `caughtUp: not caught up after ${timeoutMs} ms (${JSON.stringify(this.status().partitions)})`, { retriable: true });
      await sleep(5);
    }
  }

  // ---------------------------------------------------------------- source events

  private onAssigned(assignment: readonly TopicPartition[]): void {
    const wanted = new Set(assignment.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const [key, state] of this.partitionStates) {
      if (wanted.has(key)) continue;
      this.partitionStates.delete(key);
      this.deadLetterFrom.delete(key);
      this.committedOffsets.delete(key);
      this.committedLoading.delete(key);
      this.pendingRemoved.push({ topic: state.topic, partition: state.partition });
    }
    const fresh: TopicPartition[] = [];
    for (const tp of assignment) {
      const key = partitionKey(tp.topic, tp.partition);
      let state = this.partitionStates.get(key);
      if (state) {
        // Still ours: carry on from where we are (the new generation would start at the committed offset).
        state.awaiting = state.awaiting ?? state.next;
      } else {
        const h = horizonPartition(this.currentHorizon, tp.topic, tp.partition);
        state = this.freshState(tp.topic, tp.partition, Number(h.endOffset), h.maxEventTime);
        state.awaiting = state.base;
        this.partitionStates.set(key, state);
        fresh.push(tp);
      }
      this.source.seek(tp.topic, tp.partition, String(state.awaiting));
    }
    if (fresh.length > 0) this.loadCommitted(fresh);
    this.flushSoon(true);
  }

  private loadCommitted(partitions: readonly TopicPartition[]): void {
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    for (const [topic, list] of byTopic) {
      const loading = this.source.committed(topic, list).then(
        (committed) => {
          for (const p of list) {
            const key = partitionKey(topic, p);
            if (this.committedLoading.get(key) !== loading) continue;
            const offset = committed.get(p);
            const value = offset === null || offset === undefined ? 0 : Number(offset);
            this.deadLetterFrom.set(key, Math.max(this.deadLetterFrom.get(key) ?? 0, value));
            this.committedOffsets.set(key, value);
            this.committedLoading.delete(key);
          }
        },
        (error: unknown) => {
          // Unknown: deliver every dead letter again rather than risk losing one.
          this.report(error instanceof SpeedLayerError ? error : new SpeedLayerError('broker', `reading committed offsets: ${(error as Error).message}`, { retriable: true, cause: error }));
          for (const p of list) if (this.committedLoading.get(partitionKey(topic, p)) === loading) this.committedLoading.delete(partitionKey(topic, p));
        },
      );
      for (const p of list) this.committedLoading.set(partitionKey(topic, p), loading);
    }
  }

  private async onBatch(batch: SourceBatch): Promise<void> {
    const key = partitionKey(batch.topic, batch.partition);
    const loading = this.committedLoading.get(key);
    if (loading) await loading;
    const state = this.partitionStates.get(key);
    if (!state || batch.isStale()) return;
    const fetched = Number(batch.fetchedOffset);
    if (state.awaiting !== null) {
      if (fetched > state.awaiting) {
        this.report(
          new SpeedLayerError(
            'data_loss',
            `${key}: asked to read from offset ${state.awaiting} but the log starts at ${fetched} now (retention?); records in between are in neither layer unless the batch layer archived them`,
            { retriable: false },
          ),
        );
        state.next = fetched;
      }
      state.awaiting = null;
    } else if (fetched > state.next) {
      // Offsets the broker skipped (transaction markers, compaction): nothing to fold.
      state.next = fetched;
    }
    const letters = this.fold(state, batch);
    const last = Number(batch.lastOffset) + 1;
    if (last > state.next) state.next = last;
    if (batch.highWatermark !== null) state.highWatermark = Number(batch.highWatermark);
    state.evict(this.retentionMs);
    state.dirty = true;
    this.enforceBufferCap();
    this.flushSoon(false);
    if (letters !== null) {
      this.enqueueDeadLetters(letters);
      if (this.deadLetterQueue.length > this.maxPendingDeadLetters) {
        // Back-pressure: do not read on while dead letters pile up undelivered.
        while (this.deadLetterQueue.length > this.maxPendingDeadLetters && (this.state === 'running' || this.state === 'starting')) {
          this.kickDeadLetters();
          await this.draining;
        }
      }
    }
  }

  /** The hot path: validate, decide lateness, fold. Returns the dead letters of the batch. */
  private fold(state: PartitionState, batch: SourceBatch): DeadLetterRecord[] | null {
    const schema = this.schema;
    const lateness = this.allowedLatenessMs;
    const views = state.views;
    const nViews = views.length;
    const buffer = state.buffer;
    const deadLetterFrom = this.deadLetterFrom.get(state.key) ?? 0;
    let letters: DeadLetterRecord[] | null = null;
    let next = state.next;
    let maxTime = state.maxTime;
    let folded = 0;
    const messages = batch.messages;
    const count = messages.length;
    // Offsets in a batch strictly increase (the source contract); when the last is exactly
    // count - 1 past the first, they are consecutive and need not be read (one string less to
    // touch and convert per record). Otherwise (compaction, transaction markers) each is read.
    const first = count > 0 ? Number(messages[0]!.offset) : 0;
    const consecutive = count > 0 && Number(messages[count - 1]!.offset) - first === count - 1;
    for (let i = consecutive && next > first ? Math.min(count, next - first) : 0; i < count; i++) {
      const message = messages[i]!;
      const offset = consecutive ? first + i : Number(message.offset);
      if (offset < next) continue;
      next = offset + 1;
      const result = parseEvent(schema, message.value);
      if (!result.ok) {
        const r = result.rejection;
        if (offset >= deadLetterFrom) {
          (letters ??= []).push(this.deadLetter(batch, message, r.code, r.reason, r.field));
        }
        continue;
      }
      const t = result.eventTime;
      if (buffer !== null) buffer.push(offset, t, result.event);
      if (t < maxTime - lateness) {
        if (offset >= deadLetterFrom) {
          const reason = `event time ${formatTimestamp(t)} is more than ${formatDuration(lateness)} before ${formatTimestamp(maxTime)}, the latest event time seen earlier in ${batch.topic}/${batch.partition}; it will be counted by the batch layer`;
          (letters ??= []).push(this.deadLetter(batch, message, 'too_late', reason, schema.timeField));
        }
        continue;
      }
      for (let v = 0; v < nViews; v++) views[v]!.add(result.event, t);
      if (t > maxTime) maxTime = t;
      folded++;
    }
    state.next = next;
    state.maxTime = maxTime;
    this.eventsTotal += folded;
    return letters;
  }

  private deadLetter(batch: SourceBatch, message: SourceBatch['messages'][number], code: DeadLetter['code'], reason: string, field: string | undefined): DeadLetterRecord {
    const letter: DeadLetter = {
      code,
      ...(field === undefined ? {} : { field }),
      reason,
      raw: rawText(message.value),
      origin: { kind: 'kafka', topic: batch.topic, partition: batch.partition, offset: message.offset },
      at: new Date(this.clock()).toISOString(),
    };
    return { letter, key: message.key ?? null, value: message.value, topic: batch.topic, partition: batch.partition, offset: message.offset };
  }

  // ---------------------------------------------------------------- rebuilding

  private freshState(topic: string, partition: number, base: number, seed: number | null): PartitionState {
    const buffer = this.bufferCap > 0 ? new ReplayBuffer(this.projection, base) : null;
    return new PartitionState(topic, partition, this.newEpoch(), base, seed, this.views, buffer, this.clock());
  }

  /** A new epoch starting at `end` (within what was read), folded from the replay buffer. */
  private refold(old: PartitionState, end: number, seed: number | null): PartitionState {
    const buffer = old.buffer!;
    buffer.trimBelow(end);
    const state = new PartitionState(old.topic, old.partition, this.newEpoch(), end, seed, this.views, buffer, this.clock());
    state.highWatermark = old.highWatermark;
    const lateness = this.allowedLatenessMs;
    let maxTime = state.maxTime;
    for (const record of buffer.records()) {
      const t = record.eventTime;
      if (t < maxTime - lateness) continue;
      for (const view of state.views) view.add(record.event, t);
      if (t > maxTime) maxTime = t;
    }
    state.maxTime = maxTime;
    state.next = old.next;
    state.evict(this.retentionMs);
    return state;
  }

  private enforceBufferCap(): void {
    if (this.bufferCap === 0) return;
    let total = 0;
    for (const s of this.partitionStates.values()) total += s.buffer?.size ?? 0;
    while (total > this.bufferCap) {
      let largest: PartitionState | null = null;
      for (const s of this.partitionStates.values()) if (s.buffer && (largest === null || s.buffer.size > largest.buffer!.size)) largest = s;
      if (!largest || largest.buffer!.chunkCount <= 1) break;
      total -= largest.buffer!.dropOldestChunk(largest.next);
    }
  }

  private newEpoch(): string {
    // Sortable by creation time, unique per process and instance.
    return `${this.clock().toString(36).padStart(9, '0')}-${this.instanceId}-${(this.epochCounter++).toString(36)}`;
  }

  // ---------------------------------------------------------------- publishing

  private flushSoon(immediate: boolean): void {
    if (this.flushImmediate !== null) return;
    const wait = immediate ? 0 : this.lastFlushAt + this.emitIntervalMs - Date.now();
    if (wait <= 0) {
      if (this.flushTimer !== null) {
        clearTimeout(this.flushTimer);
        this.flushTimer = null;
      }
      this.flushImmediate = setImmediate(() => {
        this.flushImmediate = null;
        this.flush();
      });
    } else if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, wait);
    }
  }

  /** Publishes every pending change now (synchronously). */
  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.flushImmediate !== null) {
      clearImmediate(this.flushImmediate);
      this.flushImmediate = null;
    }
    this.lastFlushAt = Date.now();
    const deltas: SpeedPartitionDelta[] = [];
    const updated: SpeedPartitionView[] = [];
    const now = this.clock();
    const wantViews = this.changesSubject.observed;
    for (const state of this.partitionStates.values()) {
      let changed = state.dirty;
      for (const view of state.views) if (view.hasPendingChanges) changed = true;
      if (!changed) continue;
      state.dirty = false;
      state.seq++;
      state.updatedAt = now;
      const upserts: Record<string, readonly ViewRow[]> = {};
      const removed: Record<string, readonly string[]> = {};
      for (const view of state.views) {
        const f = view.flush();
        upserts[view.spec.name] = state.reset ? view.rows() : f.upserts;
        removed[view.spec.name] = state.reset ? [] : f.removed;
      }
      deltas.push({
        topic: state.topic,
        partition: state.partition,
        epoch: state.epoch,
        seq: state.seq,
        baseOffset: String(state.base),
        nextOffset: String(state.next),
        maxEventTime: state.maxEventTime,
        watermark: state.watermark(this.allowedLatenessMs),
        updatedAt: now,
        reset: state.reset,
        upserts,
        removed,
      });
      state.reset = false;
      if (wantViews) updated.push(state.snapshot(this.allowedLatenessMs));
    }
    const removedPartitions = this.pendingRemoved;
    this.pendingRemoved = [];
    if (deltas.length === 0 && removedPartitions.length === 0) return;
    this.sampleRate();
    this.deltasSubject.next({ updated: deltas, removed: removedPartitions });
    this.changesSubject.next({ updated, removed: removedPartitions });
  }

  // ---------------------------------------------------------------- dead letters

  private enqueueDeadLetters(records: DeadLetterRecord[]): void {
    for (const r of records) {
      this.deadLetterQueue.push(r);
      const key = partitionKey(r.topic, r.partition);
      let offsets = this.undelivered.get(key);
      if (!offsets) {
        offsets = [];
        this.undelivered.set(key, offsets);
      }
      offsets.push(Number(r.offset));
      this.deadLetterCounts[r.letter.code] = (this.deadLetterCounts[r.letter.code] ?? 0) + 1;
      this.deadLettersSubject.next(r.letter);
    }
    this.kickDeadLetters();
  }

  private kickDeadLetters(): void {
    if (this.draining !== null || this.deadLetterQueue.length === 0) return;
    this.draining = this.drainDeadLetters().finally(() => {
      this.draining = null;
      // Letters queued after the loop saw an empty queue.
      if (this.state !== 'stopped') this.kickDeadLetters();
    });
  }

  private async drainDeadLetters(): Promise<void> {
    let backoff = 100;
    while (this.deadLetterQueue.length > 0) {
      const chunk = this.deadLetterQueue.slice(0, DEAD_LETTER_CHUNK);
      try {
        await this.sink.deliver(chunk);
      } catch (error) {
        this.report(
          new SpeedLayerError('dead_letter_delivery', `delivering ${chunk.length} dead letters to ${this.sink.description} failed (kept, retrying in ${backoff} ms): ${(error as Error).message}`, {
            retriable: true,
            cause: error,
          }),
        );
        if (this.state === 'stopped') return;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
        continue;
      }
      backoff = 100;
      this.deadLetterQueue.splice(0, chunk.length);
      for (const r of chunk) this.undelivered.get(partitionKey(r.topic, r.partition))?.shift();
    }
  }

  // ---------------------------------------------------------------- offsets

  private async commitNow(): Promise<void> {
    if (this.committing) return this.committing;
    const offsets: Array<TopicPartition & { offset: string }> = [];
    for (const state of this.partitionStates.values()) {
      if (state.awaiting !== null || this.committedLoading.has(state.key)) continue;
      const pending = this.undelivered.get(state.key);
      const safe = pending && pending.length > 0 ? Math.min(state.next, pending[0]!) : state.next;
      if (safe > (this.committedOffsets.get(state.key) ?? -1)) offsets.push({ topic: state.topic, partition: state.partition, offset: String(safe) });
    }
    if (offsets.length === 0) return;
    this.committing = this.source
      .commit(offsets)
      .then(() => {
        for (const o of offsets) {
          const key = partitionKey(o.topic, o.partition);
          if (this.partitionStates.has(key)) this.committedOffsets.set(key, Number(o.offset));
        }
      })
      .catch((error: unknown) => {
        // Usually a rebalance in progress; the next round commits again.
        this.report(error instanceof SpeedLayerError ? error : new SpeedLayerError('broker', `committing offsets: ${(error as Error).message}`, { retriable: true, cause: error }));
      })
      .finally(() => {
        this.committing = null;
      });
    return this.committing;
  }

  // ---------------------------------------------------------------- bookkeeping

  private viewIndex(name: string): number {
    const index = this.views.findIndex((v) => v.name === name);
    if (index < 0) throw new ConfigError(`name: no view ${JSON.stringify(name)}; views are ${this.views.map((v) => v.name).join(', ')}`, 'name');
    return index;
  }

  private fail(error: Error): void {
    this.state = 'failed';
    this.report(error instanceof SpeedLayerError ? error : new SpeedLayerError('consumer_failed', error.message, { retriable: false, cause: error }));
  }

  private report(error: SpeedLayerError): void {
    this.recentErrors.push({ at: new Date(this.clock()).toISOString(), code: error.code, message: error.message, retriable: error.retriable });
    if (this.recentErrors.length > 20) this.recentErrors.shift();
    this.errorsSubject.next(error);
  }

  private sampleRate(): void {
    const now = Date.now();
    const last = this.rateSamples[this.rateSamples.length - 1];
    if (last && now - last[0] < 250) return;
    this.rateSamples.push([now, this.eventsTotal]);
    while (this.rateSamples.length > 2 && now - this.rateSamples[0]![0] > 10_000) this.rateSamples.shift();
  }

  private rate(): number {
    const now = Date.now();
    const first = this.rateSamples.find(([t]) => now - t <= 10_000);
    if (!first) return 0;
    const elapsed = (now - first[0]) / 1000;
    return elapsed <= 0 ? 0 : (this.eventsTotal - first[1]) / elapsed;
  }
}

function integerOption(value: number | undefined, fallback: number, field: string, min: number): number {
  if (value === undefined) return fallback;
  assertParam(Number.isInteger(value) && value >= min, field, `must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}

/** Creates a speed layer (not started: call `start()`). */
export function createSpeedLayer(options: SpeedLayerOptions): SpeedLayer {
  return new SpeedLayer(options);
}
