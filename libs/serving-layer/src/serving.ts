/**
 * The serving layer: follows a batch snapshot source and a speed view source,
 * keeps each view merged (consistent pair, see selection.ts), and answers
 * queries from memory with the horizon and freshness of what they include.
 */
import {
  ConfigError,
  defaultViews,
  formatTimestamp,
  horizonEndOffset,
  sensorEventSchema,
  validateEventSchema,
  validateViewSpecs,
  type BatchRunInfo,
  type BatchSnapshot,
  type BatchSnapshotSource,
  type EventSchema,
  type FieldType,
  type FinalRow,
  type PartitionLag,
  type ResolvedViewSpec,
  type SpeedChange,
  type SpeedPartitionView,
  type SpeedStatus,
  type SpeedViewSource,
  type Unsubscribable,
  type ViewRow,
  type ViewSpec,
} from '@lambdaline/core';
import { Observable, Subject } from 'rxjs';
import { UnknownViewError } from './errors.js';
import { indexRows, MergedView, type MergedDelta, type RowIndex } from './merged-view.js';
import { createServingMetrics, type ServingMetrics, type ServingMetricsOptions } from './metrics.js';
import { normalizeQuery, type NormalizedQuery, type QueryOptions } from './query.js';
import { RateMeter } from './rate.js';
import { compareTopicPartitions, EMPTY_SNAPSHOT, selectPair, tpKey, type PairMode, type PairSelection, type PartitionUseState } from './selection.js';

/** Facts the runner knows about the batch layer beyond what a snapshot says. */
export interface BatchStatusReport {
  readonly running?: boolean;
  readonly lastRun?: BatchRunInfo | null;
  readonly nextRunAt?: string | null;
  readonly lastError?: string | null;
}

/** Lets the runner plug in what it knows about the other layers. Both parts optional. */
export interface StatusProvider {
  batch?(): BatchStatusReport | null;
  /** Overrides `SpeedViewSource.status()` (e.g. the speed layer runs in this process). */
  speed?(): SpeedStatus | null;
}

export interface ServingLayerOptions {
  /** Published batch snapshots. Without one, answers are the speed views alone (horizon empty). */
  readonly batch?: BatchSnapshotSource;
  /** Speed partition views. Without one, answers are the batch snapshots alone. */
  readonly speed?: SpeedViewSource;
  /** Defaults to core's `sensorEventSchema`. */
  readonly schema?: EventSchema;
  /** Defaults to core's `defaultViews`. */
  readonly views?: readonly ViewSpec[];
  readonly status?: StatusProvider;
  /** How many snapshots to keep for consistent pairs while the speed layer catches up (default 3, at least 2). */
  readonly retainSnapshots?: number;
  readonly metrics?: ServingMetricsOptions;
  /** Clock (epoch ms), for freshness and rates. */
  readonly now?: () => number;
}

export interface AnswerHorizon {
  /** Version of the batch snapshot used; 0 = no snapshot yet. */
  readonly snapshotVersion: number;
  readonly snapshotCreatedAt: string | null;
  /** Largest event time the snapshot covers (ISO-8601), the batch horizon on a time axis. */
  readonly maxEventTime: string | null;
  /** Per topic-partition: offsets below endOffset come from the batch, the rest from the speed layer. */
  readonly partitions: ReadonlyArray<{ topic: string; partition: number; endOffset: string; maxEventTime: string | null }>;
}

export interface Freshness {
  /** When the answer was made. */
  readonly asOf: string;
  /** Newest event time included, over the batch snapshot and the speed views used. */
  readonly newestEventTime: string | null;
  /** asOf − newestEventTime in ms. */
  readonly ageMs: number | null;
  /** Records the speed layer has not folded yet, summed over partitions; null when unknown. */
  readonly speedLag: number | null;
}

export interface PartitionConsistency {
  readonly topic: string;
  readonly partition: number;
  /** live: added, up to date; frozen: added at an earlier state (see reason); excluded: not added. */
  readonly state: PartitionUseState;
  /** Offsets [baseOffset, nextOffset) of this partition come from the speed view (when added). */
  readonly baseOffset: string;
  readonly nextOffset: string | null;
  readonly epoch: string | null;
  readonly reason?: string;
}

export interface Consistency {
  readonly mode: PairMode;
  readonly partitions: readonly PartitionConsistency[];
}

export interface QueryResult {
  readonly view: string;
  readonly horizon: AnswerHorizon;
  readonly freshness: Freshness;
  readonly consistency: Consistency;
  /** True when more rows matched than `limit`. */
  readonly truncated: boolean;
  /** `{ window_start, <dimensions>, <measures> }`, ordered by window then dimensions. Frozen objects. */
  readonly rows: readonly FinalRow[];
}

export interface ViewChange {
  readonly view: string;
  readonly horizon: AnswerHorizon;
  readonly freshness: Freshness;
  readonly consistency: Consistency;
  /** Rows whose merged value changed (or appeared), final, in answer order. */
  readonly rows: readonly FinalRow[];
  /** Rows that disappeared: `{ window_start, <dimensions> }`. */
  readonly removed: readonly FinalRow[];
}

export interface SpeedPartitionStatus extends PartitionLag {
  readonly state: PartitionUseState | 'idle';
  readonly baseOffset: string | null;
  readonly epoch: string | null;
  readonly seq: number | null;
  readonly maxEventTime: string | null;
  readonly updatedAt: string | null;
}

export interface ServingStatus {
  readonly now: string;
  readonly batch: {
    readonly snapshotVersion: number;
    readonly createdAt: string | null;
    readonly ageMs: number | null;
    readonly horizon: AnswerHorizon;
    readonly lastRun: BatchRunInfo | null;
    readonly running: boolean | null;
    readonly nextRunAt: string | null;
    readonly lastError: string | null;
    /** Versions kept for consistent pairs, newest first. */
    readonly retainedVersions: readonly number[];
  };
  readonly speed: {
    readonly partitions: readonly SpeedPartitionStatus[];
    readonly lagTotal: number | null;
    readonly eventsPerSecond: number | null;
    readonly eventsTotal: number | null;
    readonly deadLetters: Readonly<Record<string, number>>;
    readonly deadLettersTotal: number;
  };
  readonly serving: {
    readonly mode: PairMode;
    /** Of answers made now. */
    readonly freshness: Freshness;
    readonly queriesPerSecond: number;
    readonly queriesTotal: number;
    readonly sseClients: number;
    readonly views: ReadonlyArray<{ name: string; rows: number }>;
    readonly sourceErrors: ReadonlyArray<{ source: 'batch' | 'speed'; message: string; at: string }>;
  };
}

export interface ViewDescription extends ResolvedViewSpec {
  /** Schema type of each dimension, to type filter values. */
  readonly dimensionTypes: Readonly<Record<string, FieldType>>;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Holds the merged views. Create it with `createServingLayer`; `close()` stops
 * following the sources (it does not close them: they may be shared).
 */
export class ServingLayer {
  readonly schema: EventSchema;
  readonly metrics: ServingMetrics;
  private readonly specs: ResolvedViewSpec[];
  private readonly byName = new Map<string, ResolvedViewSpec>();
  private readonly merged = new Map<string, MergedView>();
  private readonly subjects = new Map<string, Subject<ViewChange>>();
  private readonly now: () => number;
  private readonly retain: number;
  private readonly options: ServingLayerOptions;

  /** Newest first; ends with EMPTY_SNAPSHOT until enough real ones arrived. */
  private snapshots: BatchSnapshot[] = [EMPTY_SNAPSHOT];
  private readonly live = new Map<string, SpeedPartitionView>();
  private readonly retained = new Map<string, Map<string, SpeedPartitionView>>();
  private selection: PairSelection;
  private selectionVersion = 0;
  private readonly subscriptions: Unsubscribable[] = [];
  private readonly sourceErrors: Array<{ source: 'batch' | 'speed'; message: string; at: string }> = [];
  private readonly queries: RateMeter;
  private sseClientCount = 0;
  private closed = false;
  private lagCache: { at: number; lag: number | null } | null = null;
  private headCache: { version: number; horizon: AnswerHorizon; consistency: Consistency; newest: number | null } | null = null;
  private readonly rowsJsonCache = new Map<string, { version: number; json: Buffer; count: number }>();

  constructor(options: ServingLayerOptions = {}) {
    this.options = options;
    this.schema = validateEventSchema(options.schema ?? sensorEventSchema);
    this.specs = validateViewSpecs(options.views ?? defaultViews, this.schema, 'views');
    this.now = options.now ?? Date.now;
    const retain = options.retainSnapshots ?? 3;
    if (!Number.isInteger(retain) || retain < 2) throw new ConfigError('retainSnapshots: must be an integer of at least 2 (the pair in use and the next)', 'retainSnapshots');
    this.retain = retain;
    this.queries = new RateMeter(10, this.now);
    for (const spec of this.specs) {
      this.byName.set(spec.name, spec);
      this.merged.set(spec.name, new MergedView(spec));
      this.subjects.set(spec.name, new Subject<ViewChange>());
    }
    this.selection = selectPair(this.snapshots, this.live, this.retained);
    this.metrics = createServingMetrics(this, options.metrics);

    const batch = options.batch;
    const speed = options.speed;
    const first = batch?.latest();
    if (first) this.snapshots = this.ordered([first, ...this.snapshots]);
    for (const view of speed?.partitions() ?? []) this.live.set(tpKey(view.topic, view.partition), view);
    this.reselect(true);
    if (batch) {
      this.subscriptions.push(
        batch.snapshots.subscribe({
          next: (snapshot) => this.onSnapshot(snapshot),
          error: (error) => this.recordError('batch', error),
        }),
      );
    }
    if (speed) {
      this.subscriptions.push(
        speed.changes.subscribe({
          next: (change) => this.onSpeedChange(change),
          error: (error) => this.recordError('speed', error),
        }),
      );
    }
  }

  /** The views served, with the schema type of each dimension. */
  views(): ViewDescription[] {
    return this.specs.map((spec) => ({
      ...spec,
      dimensionTypes: Object.fromEntries(spec.dimensions.map((d) => [d, this.schema.fields[d]!.type])),
    }));
  }

  /** The spec of a view; throws `UnknownViewError`. */
  view(name: string): ResolvedViewSpec {
    const spec = typeof name === 'string' ? this.byName.get(name) : undefined;
    if (!spec) throw new UnknownViewError(String(name), this.specs.map((s) => s.name));
    return spec;
  }

  /**
   * Answers a query over all events seen, each counted once: the consistent
   * pair's merged rows in [from, to), filtered, ordered, at most `limit`.
   * Throws `UnknownViewError`, or `ConfigError` naming the bad option.
   */
  query(view: string, options: QueryOptions = {}): QueryResult {
    const started = performance.now();
    let spec: ResolvedViewSpec;
    let query: NormalizedQuery;
    try {
      spec = this.view(view);
      query = normalizeQuery(spec, this.schema, options);
    } catch (error) {
      this.metrics.queryError(error instanceof UnknownViewError ? 'unknown_view' : 'bad_parameter');
      throw error;
    }
    return this.runQuery(spec, query, started);
  }

  /** @internal The query path of the HTTP API, with a validated query. */
  runQuery(spec: ResolvedViewSpec, query: NormalizedQuery, started = performance.now()): QueryResult {
    const { rows, truncated } = this.merged.get(spec.name)!.select(query);
    const head = this.head();
    const result: QueryResult = {
      view: spec.name,
      horizon: head.horizon,
      freshness: this.freshness(head.newest),
      consistency: head.consistency,
      truncated,
      rows,
    };
    this.countQuery(spec.name, started);
    return result;
  }

  /**
   * @internal The HTTP answer as UTF-8 JSON. Rows are serialised once per
   * (view state, query) and reused until the view changes; horizon and
   * freshness are fresh every time. A Buffer, because big answers go out
   * several times faster than as a string.
   */
  runQueryJson(spec: ResolvedViewSpec, query: NormalizedQuery): Buffer {
    const started = performance.now();
    const merged = this.merged.get(spec.name)!;
    const cacheKey = `${spec.name}\u0000${query.key}`;
    let cached = this.rowsJsonCache.get(cacheKey);
    if (!cached || cached.version !== merged.version) {
      const { json, truncated, count } = merged.selectJson(query);
      cached = { version: merged.version, json: Buffer.from(`"truncated":${truncated},"rows":${json}}`), count };
      this.rowsJsonCache.delete(cacheKey);
      this.rowsJsonCache.set(cacheKey, cached);
      if (this.rowsJsonCache.size > 64) this.rowsJsonCache.delete(this.rowsJsonCache.keys().next().value!);
    }
    const head = this.head();
    const json = Buffer.from(
      `{"view":${JSON.stringify(spec.name)},"horizon":${JSON.stringify(head.horizon)},` +
        `"freshness":${JSON.stringify(this.freshness(head.newest))},"consistency":${JSON.stringify(head.consistency)},`,
    );
    this.countQuery(spec.name, started);
    return Buffer.concat([json, cached.json]);
  }

  /**
   * Changed rows of a view after every source update that changed them
   * (merged, final). Hot: subscribe, then `query` for the current state.
   */
  changes(view: string): Observable<ViewChange> {
    this.view(view);
    return this.subjects.get(view)!.asObservable();
  }

  /** The horizon answers are made at now. */
  horizon(): AnswerHorizon {
    return this.head().horizon;
  }

  freshness(newest = this.head().newest): Freshness {
    const now = this.now();
    return {
      asOf: formatTimestamp(now),
      newestEventTime: newest === null ? null : formatTimestamp(newest),
      ageMs: newest === null ? null : Math.max(0, now - newest),
      speedLag: this.speedLag(now),
    };
  }

  /** Summed speed lag, asked of the source at most every 250 ms (queries are hot). */
  private speedLag(now: number): number | null {
    if (this.lagCache && now - this.lagCache.at < 250 && now >= this.lagCache.at) return this.lagCache.lag;
    const status = this.speedStatus();
    const lag = status ? sumLag(status.partitions) : null;
    this.lagCache = { at: now, lag };
    return lag;
  }

  consistency(): Consistency {
    return this.head().consistency;
  }

  /** Merged rows of a view as monoid parts (what tests compare with a full recomputation). */
  mergedRows(view: string): ViewRow[] {
    this.view(view);
    return this.merged.get(view)!.rows();
  }

  status(): ServingStatus {
    const now = this.now();
    const head = this.head();
    const snapshot = this.selection.snapshot;
    const report = this.options.status?.batch?.() ?? null;
    const speed = this.speedStatus();
    const lagOf = new Map((speed?.partitions ?? []).map((p) => [tpKey(p.topic, p.partition), p]));
    const uses = new Map(this.selection.partitions.map((u) => [tpKey(u.topic, u.partition), u]));
    const keys = new Set([...this.live.keys(), ...lagOf.keys()]);
    const partitions: SpeedPartitionStatus[] = [...keys].map((key) => {
      const view = this.live.get(key);
      const lag = lagOf.get(key);
      const use = uses.get(key);
      return {
        topic: view?.topic ?? lag!.topic,
        partition: view?.partition ?? lag!.partition,
        nextOffset: view?.nextOffset ?? lag!.nextOffset,
        highWatermark: lag?.highWatermark ?? null,
        lag: lag?.lag ?? null,
        state: use?.liveBaseOffset != null ? use.state : 'idle',
        baseOffset: view?.baseOffset ?? null,
        epoch: view?.epoch ?? null,
        seq: view?.seq ?? null,
        maxEventTime: view?.maxEventTime == null ? null : formatTimestamp(view.maxEventTime),
        updatedAt: view ? formatTimestamp(view.updatedAt) : null,
      };
    });
    partitions.sort(compareTopicPartitions);
    const deadLetters = speed?.deadLetters ?? {};
    return {
      now: formatTimestamp(now),
      batch: {
        snapshotVersion: snapshot.version,
        createdAt: snapshot === EMPTY_SNAPSHOT ? null : snapshot.createdAt,
        ageMs: snapshot === EMPTY_SNAPSHOT ? null : Math.max(0, now - Date.parse(snapshot.createdAt)),
        horizon: head.horizon,
        lastRun: report?.lastRun ?? this.snapshots.find((s) => s.run)?.run ?? null,
        running: report?.running ?? null,
        nextRunAt: report?.nextRunAt ?? null,
        lastError: report?.lastError ?? batchSourceError(this.options.batch),
        retainedVersions: this.snapshots.filter((s) => s !== EMPTY_SNAPSHOT).map((s) => s.version),
      },
      speed: {
        partitions,
        lagTotal: sumLag(partitions),
        eventsPerSecond: speed?.eventsPerSecond ?? null,
        eventsTotal: speed?.eventsTotal ?? null,
        deadLetters,
        deadLettersTotal: Object.values(deadLetters).reduce((a, b) => a + b, 0),
      },
      serving: {
        mode: this.selection.mode,
        freshness: this.freshness(head.newest),
        queriesPerSecond: this.queries.rate(),
        queriesTotal: this.queries.total,
        sseClients: this.sseClientCount,
        views: this.specs.map((s) => ({ name: s.name, rows: this.merged.get(s.name)!.size })),
        sourceErrors: [...this.sourceErrors],
      },
    };
  }

  /** @internal For the HTTP layer's SSE gauge. */
  sseClients(delta: number): number {
    this.sseClientCount += delta;
    this.metrics.sseClients(this.sseClientCount);
    return this.sseClientCount;
  }

  /** @internal */
  speedStatus(): SpeedStatus | null {
    try {
      return this.options.status?.speed?.() ?? this.options.speed?.status?.() ?? null;
    } catch (error) {
      this.recordError('speed', error);
      return null;
    }
  }

  /** Stops following the sources and completes every `changes()` stream. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    for (const subject of this.subjects.values()) subject.complete();
  }

  // ---- following the sources ----

  private onSnapshot(snapshot: BatchSnapshot): void {
    if (this.closed) return;
    const same = this.snapshots.find((s) => s.version === snapshot.version);
    if (same === snapshot) return;
    this.snapshots = this.ordered([snapshot, ...this.snapshots.filter((s) => s.version !== snapshot.version)]);
    this.reselect(same !== undefined);
  }

  private onSpeedChange(change: SpeedChange): void {
    if (this.closed) return;
    for (const view of change.updated) {
      const key = tpKey(view.topic, view.partition);
      const previous = this.live.get(key);
      if (previous && previous.baseOffset !== view.baseOffset) this.keep(key, previous);
      this.retained.get(key)?.delete(view.baseOffset);
      this.live.set(key, view);
    }
    for (const { topic, partition } of change.removed) {
      const key = tpKey(topic, partition);
      const previous = this.live.get(key);
      if (!previous) continue;
      this.keep(key, previous);
      this.live.delete(key);
    }
    this.reselect(false);
  }

  private keep(key: string, view: SpeedPartitionView): void {
    let byBase = this.retained.get(key);
    if (!byBase) {
      byBase = new Map();
      this.retained.set(key, byBase);
    }
    byBase.set(view.baseOffset, view);
  }

  private ordered(snapshots: BatchSnapshot[]): BatchSnapshot[] {
    return snapshots.sort((a, b) => b.version - a.version);
  }

  private structure(selection: PairSelection): string {
    const s = selection.snapshot;
    return [s.version, s.createdAt, ...selection.partitions.map((p) => `${p.topic}|${p.partition}|${p.state}|${p.view?.baseOffset ?? '-'}`)].join('\u0000');
  }

  /** Re-applies the pair rule; rebuilds merged views when the pair changed, else patches the partitions that changed. */
  private reselect(forceRebuild: boolean): void {
    const previous = this.selection;
    const next = selectPair(this.snapshots, this.live, this.retained);
    this.selection = next;
    this.prune();
    const rebuild = forceRebuild || this.structure(previous) !== this.structure(next);
    const oldViews = new Map(previous.partitions.map((p) => [tpKey(p.topic, p.partition), p.view]));
    const changedParts = next.partitions.filter((p) => p.view !== null && oldViews.get(tpKey(p.topic, p.partition)) !== p.view);
    if (!rebuild && changedParts.length === 0) return;
    this.selectionVersion++;
    this.headCache = null;
    for (const spec of this.specs) {
      const merged = this.merged.get(spec.name)!;
      let delta: MergedDelta;
      if (rebuild) {
        const parts = new Map<string, RowIndex>();
        for (const use of next.partitions) if (use.view) parts.set(tpKey(use.topic, use.partition), indexRows(use.view.views[spec.name]));
        delta = merged.reset(indexRows(next.snapshot.views[spec.name]), parts);
      } else {
        delta = merged.setPartitions(changedParts.map((use) => [tpKey(use.topic, use.partition), indexRows(use.view!.views[spec.name])] as const));
      }
      if (delta.upserted.length === 0 && delta.removed.length === 0 && !rebuild) continue;
      const subject = this.subjects.get(spec.name)!;
      if (!subject.observed) continue;
      const head = this.head();
      subject.next({
        view: spec.name,
        horizon: head.horizon,
        freshness: this.freshness(head.newest),
        consistency: head.consistency,
        rows: delta.upserted,
        removed: delta.removed,
      });
    }
  }

  /** Drops snapshots beyond `retainSnapshots` (never the one in use) and retained views no snapshot can use. */
  private prune(): void {
    const inUse = this.selection.snapshot;
    this.snapshots = this.snapshots.filter((s, i) => i < this.retain || s === inUse);
    for (const [key, byBase] of this.retained) {
      for (const [base, view] of byBase) {
        const usable = this.snapshots.some((s) => horizonEndOffset(s.horizon, view.topic, view.partition) === base);
        if (!usable) byBase.delete(base);
      }
      if (byBase.size === 0) this.retained.delete(key);
    }
  }

  private head(): { horizon: AnswerHorizon; consistency: Consistency; newest: number | null } {
    if (this.headCache && this.headCache.version === this.selectionVersion) return this.headCache;
    const { snapshot, mode, partitions } = this.selection;
    const horizon: AnswerHorizon = {
      snapshotVersion: snapshot.version,
      snapshotCreatedAt: snapshot === EMPTY_SNAPSHOT ? null : snapshot.createdAt,
      maxEventTime: snapshot.horizon.maxEventTime === null ? null : formatTimestamp(snapshot.horizon.maxEventTime),
      partitions: snapshot.horizon.partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        endOffset: p.endOffset,
        maxEventTime: p.maxEventTime === null ? null : formatTimestamp(p.maxEventTime),
      })),
    };
    let newest = snapshot.horizon.maxEventTime;
    const consistency: Consistency = {
      mode,
      partitions: partitions.map((use) => {
        const view = use.view;
        if (view && view.maxEventTime !== null) newest = newest === null ? view.maxEventTime : Math.max(newest, view.maxEventTime);
        const out: PartitionConsistency = {
          topic: use.topic,
          partition: use.partition,
          state: use.state,
          baseOffset: use.expectedBaseOffset,
          nextOffset: view?.nextOffset ?? null,
          epoch: view?.epoch ?? null,
        };
        return use.reason === undefined ? out : { ...out, reason: use.reason };
      }),
    };
    this.headCache = { version: this.selectionVersion, horizon, consistency, newest };
    return this.headCache;
  }

  private countQuery(view: string, started: number): void {
    this.queries.mark();
    this.metrics.queryDone(view, (performance.now() - started) / 1000);
  }

  private recordError(source: 'batch' | 'speed', error: unknown): void {
    this.sourceErrors.push({ source, message: errorMessage(error), at: formatTimestamp(this.now()) });
    if (this.sourceErrors.length > 20) this.sourceErrors.shift();
  }
}

/** Sources that can fail to read (like `snapshotDirectorySource`) say so through `lastError()`. */
function batchSourceError(source: BatchSnapshotSource | undefined): string | null {
  return source?.lastError?.()?.message ?? null;
}

function sumLag(partitions: readonly PartitionLag[]): number | null {
  return partitions.reduce<number | null>((sum, p) => (p.lag === null ? sum : (sum ?? 0) + p.lag), null);
}

/** Creates a serving layer over the given sources (see `ServingLayerOptions`). */
export function createServingLayer(options: ServingLayerOptions = {}): ServingLayer {
  return new ServingLayer(options);
}
