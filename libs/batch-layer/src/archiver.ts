/**
 * The archiver keeps Kafka in the master dataset. It buffers records and
 * commits them in chunks (by count, bytes or age); each commit lists the
 * files and, per topic-partition, the offset ranges it covers. An offset that
 * is already covered is skipped, so feeding overlapping ranges, or retrying
 * after a crash between writing files and committing, never duplicates data.
 *
 * Invalid records are quarantined, and their offsets still count as archived:
 * the horizon moves past them (the speed layer dead-letters the ones at or
 * above the horizon).
 *
 * Feed each partition in increasing offset order, as a Kafka consumer does.
 * Offsets skipped between two records fed in order (compaction, transaction
 * markers) are considered absent from the log: a range is [first, last + 1).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseEvent, parseOffset, rawText, type Horizon, type RejectionCode, type SourceRecord } from '@lambdaline/core';
import { ChunkWriter } from './chunk-writer.js';
import { tpKey } from './coverage.js';
import { DatasetClosedError } from './errors.js';
import { newId } from './fsutil.js';
import { Mutex, type Internals, type ProgressListener } from './internals.js';
import type { ArchivedRange, ManifestCommit } from './manifest.js';

export interface ArchiveOptions {
  /** Commit after this many records (valid or not) are buffered (default 100 000). */
  readonly chunkRecords?: number;
  /** Commit when this many bytes of staged rows are buffered (default 64 MiB). */
  readonly chunkBytes?: number;
  /** Commit buffered records at the latest this long after the first arrived (default 30 000 ms). */
  readonly chunkMs?: number;
  /** Called after each commit: the place to commit consumer offsets. */
  readonly onCommit?: (commit: ArchiveCommitInfo) => void | Promise<void>;
  readonly onProgress?: ProgressListener;
  /** Stop reading (then commit what is buffered) when aborted. */
  readonly signal?: AbortSignal;
}

export interface ArchiveCommitInfo {
  /** Manifest sequence number of the commit. */
  readonly seq: number;
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
  readonly ranges: readonly ArchivedRange[];
  /** Everything archived so far, dataset-wide (not yet a published snapshot). */
  readonly horizon: Horizon;
}

export interface ArchiveReport {
  /** Records newly archived (valid or not). */
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
  /** Records skipped because their offset was already archived. */
  readonly duplicates: number;
  readonly commits: number;
  readonly byCode: Readonly<Partial<Record<RejectionCode, number>>>;
  /** Everything archived so far, dataset-wide. */
  readonly horizon: Horizon;
}

interface Run {
  from: bigint;
  to: bigint;
  records: number;
  valid: number;
  maxEventTime: number | null;
}

interface PendingPartition {
  readonly topic: string;
  readonly partition: number;
  readonly runs: Run[];
  /** Highest offset taken in this chunk. */
  last: bigint;
  /** False after a skipped duplicate: the next record starts a new run. */
  open: boolean;
}

/** Which archiver owns which partition, so two sessions never race on the same offsets. */
export type PartitionClaims = Map<string, Archiver>;

export class Archiver {
  private readonly chunkRecords: number;
  private readonly chunkBytes: number;
  private readonly chunkMs: number;
  private writer: ChunkWriter | null = null;
  private pending = new Map<string, PendingPartition>();
  /** The chunk being committed right now: its offsets count as taken until the commit ends. */
  private inflight: Map<string, PendingPartition> | null = null;
  private pendingRecords = 0;
  private pendingSince = 0;
  /** Commits and drains, one at a time; `busy` while one runs. */
  private readonly serial = new Mutex();
  private busy = false;
  private failure: unknown = null;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly claimed = new Set<string>();
  private readonly started = Date.now();
  private totals = { records: 0, accepted: 0, quarantined: 0, duplicates: 0, commits: 0 };
  private readonly byCode: Record<string, number> = {};

  constructor(
    private readonly ctx: Internals,
    private readonly claims: PartitionClaims,
    private readonly options: ArchiveOptions = {},
    private readonly isOpen: () => boolean = () => true,
  ) {
    this.chunkRecords = positive(options.chunkRecords, 100_000, 'chunkRecords');
    this.chunkBytes = positive(options.chunkBytes, 64 << 20, 'chunkBytes');
    this.chunkMs = positive(options.chunkMs, 30_000, 'chunkMs');
    this.timer = setInterval(() => {
      if (this.pendingRecords > 0 && !this.busy && Date.now() - this.pendingSince >= this.chunkMs) {
        void this.exclusive(() => this.commitPending()).catch(() => undefined);
      }
    }, Math.max(10, Math.min(1_000, this.chunkMs / 4)));
    this.timer.unref();
  }

  /** Totals of this archiver so far. */
  report(): ArchiveReport {
    return { ...this.totals, byCode: { ...this.byCode }, horizon: this.ctx.manifest.horizonAt() };
  }

  /**
   * Adds records; resolves once they are buffered (and committed, when a chunk
   * filled up). Throws a `ConfigError` naming the field for a record that is
   * not a log record (bad topic, partition or offset): that is a feeder bug.
   */
  async write(records: Iterable<SourceRecord>): Promise<void> {
    if (this.busy) await this.idle();
    this.check();
    let needsCommit = false;
    for (const record of records) {
      this.take(record);
      if (this.pendingRecords >= this.chunkRecords || (this.writer?.stagedBytes ?? 0) >= this.chunkBytes) needsCommit = true;
      if (needsCommit) {
        await this.exclusive(() => this.commitPending());
        needsCommit = false;
      } else if ((this.writer?.pendingBytes ?? 0) >= 4 << 20) {
        await this.exclusive(() => this.writer!.drain());
      }
    }
  }

  /** Commits whatever is buffered now. */
  flush(): Promise<ArchiveCommitInfo | null> {
    return this.exclusive(() => this.commitPending());
  }

  /** Commits what is buffered and releases the partitions. */
  async close(): Promise<ArchiveReport> {
    if (this.closed) return this.report();
    try {
      if (this.failure === null) await this.flush();
    } finally {
      this.closed = true;
      clearInterval(this.timer);
      for (const key of this.claimed) if (this.claims.get(key) === this) this.claims.delete(key);
      this.claimed.clear();
      await this.writer?.dispose();
      this.writer = null;
    }
    if (this.failure !== null) throw this.failure;
    return this.report();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new DatasetClosedError('archiver: closed; create a new one to archive more');
    if (!this.isOpen()) throw new DatasetClosedError('archiver: the dataset was closed');
  }

  private async idle(): Promise<void> {
    while (this.busy) await this.serial.run(async () => undefined);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    });
  }

  private take(record: SourceRecord): void {
    if (typeof record !== 'object' || record === null) throw new ConfigError('records[]: each record must be an object { topic, partition, offset, value }', 'records');
    const { topic, partition } = record;
    if (typeof topic !== 'string' || topic === '') throw new ConfigError(`records[].topic: must be a non-empty string, got ${JSON.stringify(topic)}`, 'records[].topic');
    if (!Number.isInteger(partition) || partition < 0) throw new ConfigError(`records[].partition: must be a non-negative integer, got ${JSON.stringify(partition)}`, 'records[].partition');
    const offset = parseOffset(record.offset, 'records[].offset');
    const key = tpKey(topic, partition);
    if (!this.claimed.has(key)) {
      const owner = this.claims.get(key);
      if (owner && owner !== this) {
        throw new ConfigError(`records[]: ${topic}:${partition} is being archived by another archiver of this dataset; one archiver per partition at a time`, 'records');
      }
      this.claims.set(key, this);
      this.claimed.add(key);
    }
    const committed = this.ctx.manifest.coverage(topic, partition);
    let state = this.pending.get(key);
    const flying = this.inflight?.get(key);
    const inRuns = (p: PendingPartition | undefined) => p !== undefined && offset <= p.last && p.runs.some((r) => offset >= r.from && offset < r.to);
    if (committed?.covers(offset) || inRuns(state) || inRuns(flying)) {
      this.totals.duplicates++;
      if (state) state.open = false;
      return;
    }
    if (!state) {
      state = { topic, partition, runs: [], last: -1n, open: false };
      this.pending.set(key, state);
    }
    let run = state.open && offset > state.last ? state.runs[state.runs.length - 1] : undefined;
    if (!run) {
      run = { from: offset, to: offset + 1n, records: 0, valid: 0, maxEventTime: null };
      state.runs.push(run);
    }
    run.to = offset + 1n;
    run.records++;
    if (offset > state.last) state.last = offset;
    state.open = true;
    if (!this.writer) this.writer = new ChunkWriter(this.ctx, newId(), 'kafka');
    if (this.pendingRecords === 0) this.pendingSince = Date.now();
    this.pendingRecords++;
    const result = parseEvent(this.ctx.schema, record.value);
    const offsetText = offset.toString();
    if (result.ok) {
      this.writer.addEvent(result.event, result.eventTime, { topic, partition, offset: offsetText });
      run.valid++;
      if (run.maxEventTime === null || result.eventTime > run.maxEventTime) run.maxEventTime = result.eventTime;
    } else {
      const { code, field, reason } = result.rejection;
      this.writer.addDeadLetter({
        code,
        ...(field === undefined ? {} : { field }),
        reason,
        raw: rawText(record.value),
        origin: { kind: 'kafka', topic, partition, offset: offsetText },
        at: new Date().toISOString(),
      });
    }
  }

  private async commitPending(): Promise<ArchiveCommitInfo | null> {
    if (this.failure !== null) throw this.failure;
    const writer = this.writer;
    if (!writer || this.pendingRecords === 0) return null;
    const pending = this.pending;
    const records = this.pendingRecords;
    this.writer = null;
    this.inflight = pending;
    this.pending = new Map();
    this.pendingRecords = 0;
    const ranges: ArchivedRange[] = [];
    for (const p of pending.values()) {
      for (const run of p.runs) {
        ranges.push({ topic: p.topic, partition: p.partition, from: run.from.toString(), to: run.to.toString(), records: run.records, valid: run.valid, maxEventTime: run.maxEventTime });
      }
    }
    ranges.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition || (BigInt(a.from) < BigInt(b.from) ? -1 : 1) : a.topic < b.topic ? -1 : 1));
    let commit: ManifestCommit;
    try {
      commit = await this.ctx.commits.run(async () => {
        const { files, quarantine } = await writer.finish(new Date().toISOString());
        try {
          await this.ctx.faults.beforeCommit?.({ kind: 'archive', id: writer.id, files: files.map((f) => f.path) });
          return await this.ctx.manifest.commit({
            id: writer.id,
            kind: 'archive',
            files,
            ranges,
            quarantine,
            records,
            accepted: writer.accepted,
            quarantined: writer.quarantined,
          });
        } catch (error) {
          for (const f of files) await rm(join(this.ctx.paths.root, f.path), { force: true });
          if (quarantine) await rm(join(this.ctx.paths.root, quarantine.path), { force: true });
          throw error;
        }
      });
    } catch (error) {
      // The buffered records are not archived. Later offsets must not be archived
      // past them (that would leave a hole under the horizon): this archiver stops;
      // restart feeding from horizon() with a new one.
      this.failure = error;
      throw error;
    } finally {
      this.inflight = null;
      await writer.dispose();
    }
    this.totals.records += records;
    this.totals.accepted += writer.accepted;
    this.totals.quarantined += writer.quarantined;
    this.totals.commits++;
    for (const [code, n] of Object.entries(writer.byCode)) this.byCode[code] = (this.byCode[code] ?? 0) + n;
    const info: ArchiveCommitInfo = {
      seq: commit.seq,
      records,
      accepted: writer.accepted,
      quarantined: writer.quarantined,
      ranges,
      horizon: this.ctx.manifest.horizonAt(),
    };
    this.options.onProgress?.({ phase: 'archive', step: `commit ${commit.seq}`, done: this.totals.records, total: null, unit: 'records', elapsedMs: Date.now() - this.started });
    await this.options.onCommit?.(info);
    return info;
  }
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(`${field}: must be a positive number, got ${JSON.stringify(value)}`, field);
  return value;
}

/**
 * Feeds an (async) iterable of records through an archiver until it ends or
 * `signal` aborts, committing by size and age, and a last time at the end.
 */
export async function archiveAll(archiver: Archiver, records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>, signal?: AbortSignal): Promise<ArchiveReport> {
  const batch: SourceRecord[] = [];
  try {
    if (Symbol.asyncIterator in records) {
      // One record at a time: records may trickle in, and the age-based commit must see each.
      // An abort ends the wait for the next record at once, even if the source is idle.
      const iterator = (records as AsyncIterable<SourceRecord>)[Symbol.asyncIterator]();
      const aborted = new Promise<'aborted'>((resolve) => {
        if (signal?.aborted) resolve('aborted');
        signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const one: SourceRecord[] = [];
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'aborted') {
          void Promise.resolve(iterator.return?.()).catch(() => undefined);
          break;
        }
        if (next.done) break;
        one[0] = next.value;
        await archiver.write(one);
      }
    } else {
      for (const record of records as Iterable<SourceRecord>) {
        if (signal?.aborted) break;
        batch.push(record);
        if (batch.length >= 4096) {
          await archiver.write(batch);
          batch.length = 0;
        }
      }
      await archiver.write(batch);
    }
  } catch (error) {
    await archiver.close().catch(() => undefined);
    throw error;
  }
  return archiver.close();
}
