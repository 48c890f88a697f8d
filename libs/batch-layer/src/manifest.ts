/**
 * The manifest: the append-only log of what the master dataset holds. A file
 * under data/ is part of the dataset only once a manifest commit lists it, and
 * a commit exists only once its file has been renamed into place, so a crash
 * before that rename leaves the dataset exactly as it was.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, makeHorizon, type Horizon, type PartitionHorizon, type RejectionCode } from '@lambdaline/core';
import { OffsetCoverage, tpKey } from './coverage.js';
import { listDir, writeFileAtomic } from './fsutil.js';
import { MANIFEST_FORMAT } from './layout.js';

/** One Parquet file of the master dataset. */
export interface ManifestFile {
  /** Relative to the dataset directory, `/`-separated. */
  readonly path: string;
  /** UTC day (partition) of every row's event time. */
  readonly day: string;
  readonly rows: number;
  readonly bytes: number;
  readonly minEventTime: number;
  readonly maxEventTime: number;
  /** For Kafka data: the offsets (first..last, inclusive) of the rows this file holds, per partition. */
  readonly offsets?: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly first: string; readonly last: string }>;
}

/** Offsets a commit archived from one topic-partition: [from, to), valid or not. */
export interface ArchivedRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: string;
  /** Exclusive. */
  readonly to: string;
  readonly records: number;
  readonly valid: number;
  /** Largest event time among the valid records of this range. */
  readonly maxEventTime: number | null;
}

export interface QuarantineRef {
  readonly path: string;
  readonly count: number;
  readonly byCode: Readonly<Partial<Record<RejectionCode | 'processing_error', number>>>;
}

export interface FileSourceRef {
  readonly path: string;
  readonly format: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface ManifestCommit {
  readonly format: typeof MANIFEST_FORMAT;
  /** 1, 2, 3, ... without gaps. */
  readonly seq: number;
  readonly id: string;
  readonly committedAt: string;
  /** `file`: an ingested input file; `archive`: a chunk of log records; `compact`: small files merged (same rows). */
  readonly kind: 'file' | 'archive' | 'compact';
  /** For `kind: 'compact'`: the files (paths) whose rows `files` now hold; they leave the dataset. */
  readonly replaces?: readonly string[];
  /** The input file, for `kind: 'file'`. */
  readonly source?: FileSourceRef;
  readonly files: readonly ManifestFile[];
  /** The Kafka offsets this commit covers, for `kind: 'archive'`. */
  readonly ranges: readonly ArchivedRange[];
  readonly quarantine: QuarantineRef | null;
  /** Records read (valid or not, duplicates excluded). */
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
}

export type NewCommit = Omit<ManifestCommit, 'format' | 'seq' | 'committedAt'>;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly coverage: OffsetCoverage;
  maxEventTime: number | null;
}

const ENTRY = /^(\d{12})\.json$/;
const CHECKPOINT = /^checkpoint-(\d{12})\.json$/;
const pad = (seq: number) => String(seq).padStart(12, '0');
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

export class Manifest {
  private readonly commitList: ManifestCommit[] = [];
  private readonly fileList: Array<ManifestFile & { readonly seq: number }> = [];
  private readonly partitions = new Map<string, PartitionState>();
  private readonly sources = new Map<string, number>();
  private fileMaxEventTime: number | null = null;
  private sinceCheckpoint = 0;

  private constructor(
    private readonly dir: string,
    private readonly durable: boolean,
    private readonly checkpointEvery: number,
  ) {}

  /** Reads the manifest directory: the latest checkpoint, then the commits after it. */
  static async load(dir: string, options: { durable?: boolean; checkpointEvery?: number } = {}): Promise<Manifest> {
    const manifest = new Manifest(dir, options.durable ?? true, options.checkpointEvery ?? 500);
    const names = await listDir(dir);
    const checkpoints = names.filter((n) => CHECKPOINT.test(n)).sort();
    let base = 0;
    const latest = checkpoints[checkpoints.length - 1];
    if (latest) {
      const path = join(dir, latest);
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { format?: string; seq?: number; commits?: ManifestCommit[] };
      if (parsed.format !== MANIFEST_FORMAT || !Array.isArray(parsed.commits)) {
        throw new FormatError(`${path}: not a ${MANIFEST_FORMAT} checkpoint`, { field: 'manifest' });
      }
      for (const commit of parsed.commits) manifest.apply(commit, path);
      base = manifest.seq;
    }
    const entries = names
      .map((n) => ENTRY.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((seq) => seq > base)
      .sort((a, b) => a - b);
    for (const seq of entries) {
      const path = join(dir, `${pad(seq)}.json`);
      let commit: ManifestCommit;
      try {
        commit = JSON.parse(await readFile(path, 'utf8')) as ManifestCommit;
      } catch (error) {
        throw new FormatError(`${path}: unreadable manifest commit (${(error as Error).message})`, { field: 'manifest', cause: error });
      }
      manifest.apply(commit, path);
      manifest.sinceCheckpoint++;
    }
    return manifest;
  }

  private apply(commit: ManifestCommit, path: string): void {
    if (commit.format !== MANIFEST_FORMAT) throw new FormatError(`${path}: format ${String(commit.format)} is not ${MANIFEST_FORMAT}`, { field: 'manifest' });
    if (commit.seq !== this.seq + 1) {
      throw new FormatError(`${path}: commit ${commit.seq} follows ${this.seq}; the manifest has a gap`, { field: 'manifest' });
    }
    this.commitList.push(commit);
    if (commit.replaces && commit.replaces.length > 0) {
      const gone = new Set(commit.replaces);
      const kept = this.fileList.filter((f) => !gone.has(f.path));
      if (kept.length !== this.fileList.length - gone.size) {
        throw new FormatError(`${path}: commit ${commit.seq} replaces files that are not in the dataset`, { field: 'manifest' });
      }
      this.fileList.length = 0;
      this.fileList.push(...kept);
    }
    for (const file of commit.files) {
      this.fileList.push({ ...file, seq: commit.seq });
      this.fileMaxEventTime = maxOf(this.fileMaxEventTime, file.maxEventTime);
    }
    for (const range of commit.ranges) {
      const key = tpKey(range.topic, range.partition);
      let state = this.partitions.get(key);
      if (!state) {
        state = { topic: range.topic, partition: range.partition, coverage: new OffsetCoverage(), maxEventTime: null };
        this.partitions.set(key, state);
      }
      state.coverage.add(BigInt(range.from), BigInt(range.to));
      state.maxEventTime = maxOf(state.maxEventTime, range.maxEventTime);
    }
    if (commit.source) this.sources.set(commit.source.sha256, commit.seq);
  }

  /** The sequence number of the last commit (0 when empty). */
  get seq(): number {
    return this.commitList.length;
  }

  get commits(): readonly ManifestCommit[] {
    return this.commitList;
  }

  /** The files of the dataset now (after compactions), or those committed up to `seq` that are still in it. */
  filesAt(seq = this.seq): ReadonlyArray<ManifestFile & { readonly seq: number }> {
    if (seq >= this.seq) return this.fileList.slice();
    return this.fileList.filter((f) => f.seq <= seq);
  }

  /** Commits with seq in (after, upTo]. */
  commitsBetween(after: number, upTo: number): readonly ManifestCommit[] {
    return this.commitList.slice(Math.max(0, after), Math.max(0, upTo));
  }

  /** The archived offsets of a partition, for duplicate checks. */
  coverage(topic: string, partition: number): OffsetCoverage | undefined {
    return this.partitions.get(tpKey(topic, partition))?.coverage;
  }

  /** The commit that ingested a file with this content hash, if any. */
  sourceCommit(sha256: string): number | undefined {
    return this.sources.get(sha256);
  }

  /**
   * What the dataset covers as of commit `seq`: per partition the exclusive end
   * of the archived offsets and the max event time of the valid ones, and the
   * max event time over every file (Kafka or file history).
   */
  horizonAt(seq = this.seq): Horizon {
    if (seq >= this.seq) {
      const partitions: PartitionHorizon[] = [...this.partitions.values()].map((p) => ({
        topic: p.topic,
        partition: p.partition,
        endOffset: p.coverage.end.toString(),
        maxEventTime: p.maxEventTime,
      }));
      return makeHorizon(partitions, this.fileMaxEventTime);
    }
    // makeHorizon merges the ranges of a partition: the largest end, the largest event time.
    const ranges: PartitionHorizon[] = [];
    let fileMax: number | null = null;
    for (const commit of this.commitList.slice(0, seq)) {
      for (const f of commit.files) fileMax = maxOf(fileMax, f.maxEventTime);
      for (const r of commit.ranges) ranges.push({ topic: r.topic, partition: r.partition, endOffset: r.to, maxEventTime: r.maxEventTime });
    }
    return makeHorizon(ranges, fileMax);
  }

  /** Partitions whose archived offsets have gaps below their end (diagnostics). */
  gaps(): Array<{ topic: string; partition: number; ranges: number }> {
    return [...this.partitions.values()]
      .filter((p) => p.coverage.rangeCount > 1)
      .map((p) => ({ topic: p.topic, partition: p.partition, ranges: p.coverage.rangeCount }));
  }

  /** Every file the dataset holds now (for orphan cleanup: anything else under data/ and quarantine/ is garbage). */
  referencedPaths(): Set<string> {
    const paths = new Set<string>(this.fileList.map((f) => f.path));
    for (const commit of this.commitList) if (commit.quarantine) paths.add(commit.quarantine.path);
    return paths;
  }

  /**
   * Appends a commit: writes `manifest/<seq>.json` atomically. Until the rename
   * inside `writeFileAtomic` happens the commit does not exist; after it, it does.
   */
  async commit(entry: NewCommit): Promise<ManifestCommit> {
    const commit: ManifestCommit = {
      format: MANIFEST_FORMAT,
      seq: this.seq + 1,
      committedAt: new Date().toISOString(),
      ...entry,
    };
    await writeFileAtomic(join(this.dir, `${pad(commit.seq)}.json`), `${JSON.stringify(commit)}\n`, this.durable);
    this.apply(commit, 'commit');
    this.sinceCheckpoint++;
    if (this.sinceCheckpoint >= this.checkpointEvery) await this.checkpoint();
    return commit;
  }

  /**
   * Folds every commit so far into one checkpoint file, then removes the
   * single-commit files it replaces. Readers accept any mix of the two, so a
   * crash at any point of this leaves a readable manifest.
   */
  async checkpoint(): Promise<void> {
    const seq = this.seq;
    if (seq === 0) return;
    await writeFileAtomic(
      join(this.dir, `checkpoint-${pad(seq)}.json`),
      `${JSON.stringify({ format: MANIFEST_FORMAT, seq, commits: this.commitList })}\n`,
      this.durable,
    );
    this.sinceCheckpoint = 0;
    for (const name of await listDir(this.dir)) {
      const entry = ENTRY.exec(name);
      const checkpoint = CHECKPOINT.exec(name);
      if ((entry && Number(entry[1]) <= seq) || (checkpoint && Number(checkpoint[1]) < seq)) await rm(join(this.dir, name), { force: true });
    }
  }
}
