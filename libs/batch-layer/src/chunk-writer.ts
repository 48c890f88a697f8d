/**
 * Writes one commit's worth of data: valid events are staged as NDJSON in
 * tmp/<id>/, turned into Parquet partitioned by UTC day by DuckDB, and renamed
 * into data/; rejected inputs go to a quarantine file. Nothing is visible until
 * the caller commits the returned file list to the manifest.
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY_MS, utcDay, type DeadLetter, type LambdaEvent } from '@lambdaline/core';
import { stagingColumnsArg, type ColumnLayout } from './columns.js';
import { query, num, type Duck } from './duck.js';
import { StorageError } from './errors.js';
import { ensureDir, fsyncPath } from './fsutil.js';
import { dataFileRel, type DatasetPaths } from './layout.js';
import type { ManifestFile, QuarantineRef } from './manifest.js';
import { ident, lit, litList } from './sql.js';

export interface ChunkContext {
  readonly paths: DatasetPaths;
  readonly duck: Duck;
  readonly layout: ColumnLayout;
  readonly timeField: string;
  readonly durable: boolean;
  readonly compression: string;
}

export interface KafkaPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

const FLUSH_BYTES = 4 * 1024 * 1024;

export class ChunkWriter {
  readonly id: string;
  private readonly dir: string;
  private readonly stagePath: string;
  private readonly quarantinePath: string;
  private stage: FileHandle | null = null;
  private dead: FileHandle | null = null;
  private stageBuffer: string[] = [];
  private stageBytes = 0;
  private deadBuffer: string[] = [];
  private deadBytes = 0;
  private readonly days = new Map<number, string>();
  accepted = 0;
  quarantined = 0;
  /** Characters of staged rows so far (buffered or written). */
  stagedBytes = 0;
  readonly byCode: Record<string, number> = {};
  private finished = false;

  constructor(
    private readonly ctx: ChunkContext,
    id: string,
    private readonly source: string,
  ) {
    this.id = id;
    this.dir = join(ctx.paths.tmp, id);
    this.stagePath = join(this.dir, 'stage.ndjson');
    this.quarantinePath = join(this.dir, 'quarantine.ndjson');
  }

  /** Bytes buffered in memory; call `drain()` when large. */
  get pendingBytes(): number {
    return this.stageBytes + this.deadBytes;
  }

  addEvent(event: LambdaEvent, eventTime: number, kafka?: KafkaPosition): void {
    const dayIndex = Math.floor(eventTime / DAY_MS);
    let day = this.days.get(dayIndex);
    if (day === undefined) {
      day = utcDay(eventTime);
      this.days.set(dayIndex, day);
    }
    const json = JSON.stringify(event);
    const line = kafka
      ? `${json.slice(0, -1)},"_day":"${day}","_topic":${JSON.stringify(kafka.topic)},"_partition":${kafka.partition},"_offset":${kafka.offset}}\n`
      : `${json.slice(0, -1)},"_day":"${day}"}\n`;
    this.stageBuffer.push(line);
    this.stageBytes += line.length;
    this.stagedBytes += line.length;
    this.accepted++;
  }

  addDeadLetter(letter: DeadLetter): void {
    const line = `${JSON.stringify(letter)}\n`;
    this.deadBuffer.push(line);
    this.deadBytes += line.length;
    this.quarantined++;
    this.byCode[letter.code] = (this.byCode[letter.code] ?? 0) + 1;
  }

  /** Writes buffered lines to the staging files when enough has accumulated. */
  async drain(force = false): Promise<void> {
    if (this.stageBuffer.length > 0 && (force || this.stageBytes >= FLUSH_BYTES)) {
      if (!this.stage) {
        await ensureDir(this.dir);
        this.stage = await open(this.stagePath, 'w');
      }
      const text = this.stageBuffer.join('');
      this.stageBuffer = [];
      this.stageBytes = 0;
      await this.stage.write(text);
    }
    if (this.deadBuffer.length > 0 && (force || this.deadBytes >= FLUSH_BYTES)) {
      if (!this.dead) {
        await ensureDir(this.dir);
        this.dead = await open(this.quarantinePath, 'w');
      }
      const text = this.deadBuffer.join('');
      this.deadBuffer = [];
      this.deadBytes = 0;
      await this.dead.write(text);
    }
  }

  /**
   * Turns the staged events into Parquet files under data/ and the dead letters
   * into a quarantine file, and returns what the manifest commit must list.
   * Until that commit, the files are orphans that the next open removes.
   */
  async finish(ingestedAt: string): Promise<{ files: ManifestFile[]; quarantine: QuarantineRef | null }> {
    if (this.finished) throw new Error('ChunkWriter.finish called twice');
    this.finished = true;
    try {
      await this.drain(true);
      await this.stage?.close();
      await this.dead?.close();
      this.stage = null;
      this.dead = null;
      const files = this.accepted > 0 ? await this.writeParquet(ingestedAt) : [];
      let quarantine: QuarantineRef | null = null;
      if (this.quarantined > 0) {
        const rel = `quarantine/${this.id}.ndjson`;
        await ensureDir(this.ctx.paths.quarantine);
        await fsyncPath(this.quarantinePath, this.ctx.durable);
        await rename(this.quarantinePath, join(this.ctx.paths.root, rel));
        await fsyncPath(this.ctx.paths.quarantine, this.ctx.durable);
        quarantine = { path: rel, count: this.quarantined, byCode: { ...this.byCode } };
      }
      return { files, quarantine };
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(`writing chunk ${this.id} failed: ${(error as Error).message}`, { cause: error, path: this.dir });
    }
  }

  private async writeParquet(ingestedAt: string): Promise<ManifestFile[]> {
    const { layout, duck, paths, timeField } = this.ctx;
    const partsDir = join(this.dir, 'parts');
    const fields = layout.fields.map((f) => ident(f.name)).join(', ');
    const written = await duck.use(async (connection) => {
      const result = await query(
        connection,
        `COPY (
           SELECT ${fields}, _topic, _partition, _offset, ${lit(this.source)} AS _source, ${lit(ingestedAt)}::TIMESTAMPTZ AS _ingested_at, _day
           FROM read_json(${lit(this.stagePath)}, format = 'newline_delimited', columns = ${stagingColumnsArg(layout)}, maximum_object_size = 134217728)
         ) TO ${lit(partsDir)} (FORMAT parquet, PARTITION_BY (_day), RETURN_FILES true, COMPRESSION ${this.ctx.compression})`,
        'writing Parquet files',
      );
      const list = (result[0]?.Files ?? []) as string[];
      if (list.length === 0) return [];
      const stats = await query(
        connection,
        `SELECT filename, count(*) AS n, min(epoch_ms(${ident(timeField)})) AS lo, max(epoch_ms(${ident(timeField)})) AS hi
         FROM read_parquet(${litList(list)}, filename = true, hive_partitioning = false) GROUP BY filename`,
        'reading back file statistics',
      );
      const offsets = await query(
        connection,
        `SELECT filename, _topic AS t, _partition AS p, min(_offset)::VARCHAR AS first, max(_offset)::VARCHAR AS last
         FROM read_parquet(${litList(list)}, filename = true, hive_partitioning = false)
         WHERE _topic IS NOT NULL GROUP BY ALL ORDER BY 2, 3`,
        'reading back file offsets',
      );
      return list.map((file) => {
        const s = stats.find((row) => row.filename === file);
        const o = offsets.filter((row) => row.filename === file);
        return {
          file,
          rows: num(s?.n),
          lo: num(s?.lo),
          hi: num(s?.hi),
          offsets: o.map((row) => ({ topic: String(row.t), partition: num(row.p), first: String(row.first), last: String(row.last) })),
        };
      });
    });
    const total = written.reduce((sum, f) => sum + f.rows, 0);
    if (total !== this.accepted) {
      throw new StorageError(`chunk ${this.id}: DuckDB wrote ${total} rows but ${this.accepted} were staged`, { path: partsDir, retriable: false });
    }
    const files: ManifestFile[] = [];
    const perDay = new Map<string, number>();
    for (const f of written) {
      const day = /_day=([0-9]{4}-[0-9]{2}-[0-9]{2})/.exec(f.file)?.[1];
      if (!day) throw new StorageError(`unexpected partition path ${f.file}`, { path: f.file, retriable: false });
      const n = perDay.get(day) ?? 0;
      perDay.set(day, n + 1);
      const rel = dataFileRel(day, n === 0 ? this.id : `${this.id}-${n}`);
      const target = join(paths.root, rel);
      await ensureDir(join(paths.data, `day=${day}`));
      await fsyncPath(f.file, this.ctx.durable);
      await rename(f.file, target);
      const bytes = (await stat(target)).size;
      files.push({
        path: rel,
        day,
        rows: f.rows,
        bytes,
        minEventTime: f.lo,
        maxEventTime: f.hi,
        ...(f.offsets.length > 0 ? { offsets: f.offsets } : {}),
      });
    }
    if (this.ctx.durable) for (const day of perDay.keys()) await fsyncPath(join(paths.data, `day=${day}`));
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    return files;
  }

  /** Removes the work directory (after a commit, or when giving up). */
  async dispose(): Promise<void> {
    await this.stage?.close().catch(() => undefined);
    await this.dead?.close().catch(() => undefined);
    this.stage = null;
    this.dead = null;
    await rm(this.dir, { recursive: true, force: true });
  }
}
