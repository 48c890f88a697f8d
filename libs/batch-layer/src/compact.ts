/**
 * Compaction: the archiver commits small files (one per day per chunk), and
 * many small files slow every batch run. Compaction merges a day's small
 * files into one new file and commits "these files now replace those" in one
 * manifest commit. No file is modified: new files are written, then the
 * commit switches the dataset to them, then the replaced files are deleted
 * (or, after a crash, removed as orphans at the next open). Rows, offsets,
 * horizon and views are unchanged.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { query, num } from './duck.js';
import { ensureDir, fsyncPath, newId } from './fsutil.js';
import type { Internals, ProgressListener } from './internals.js';
import { dataFileRel } from './layout.js';
import type { ManifestFile } from './manifest.js';
import { lit, litList } from './sql.js';

export interface CompactOptions {
  /** Merge a day's files when it has at least this many (default 8). */
  readonly minFiles?: number;
  /** Files smaller than this many rows are candidates (default 1 000 000). */
  readonly smallFileRows?: number;
  /** Most rows in one merged file (default 5 000 000). */
  readonly maxRowsPerFile?: number;
  readonly onProgress?: ProgressListener;
}

export interface CompactReport {
  /** Days that were compacted. */
  readonly days: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly rows: number;
  readonly commits: number;
}

export async function compactFiles(ctx: Internals, options: CompactOptions): Promise<CompactReport> {
  const minFiles = options.minFiles ?? 8;
  const small = options.smallFileRows ?? 1_000_000;
  const maxRows = options.maxRowsPerFile ?? 5_000_000;
  const started = Date.now();
  const byDay = new Map<string, ManifestFile[]>();
  for (const f of ctx.manifest.filesAt()) {
    if (f.rows >= small) continue;
    const list = byDay.get(f.day) ?? [];
    list.push(f);
    byDay.set(f.day, list);
  }
  const days = [...byDay.entries()].filter(([, files]) => files.length >= minFiles).sort(([a], [b]) => (a < b ? -1 : 1));
  let filesBefore = 0;
  let filesAfter = 0;
  let rows = 0;
  let commits = 0;
  for (const [index, [day, files]] of days.entries()) {
    // Groups of consecutive files up to maxRows each.
    const groups: ManifestFile[][] = [];
    let group: ManifestFile[] = [];
    let groupRows = 0;
    for (const f of files) {
      if (group.length > 0 && groupRows + f.rows > maxRows) {
        groups.push(group);
        group = [];
        groupRows = 0;
      }
      group.push(f);
      groupRows += f.rows;
    }
    if (group.length > 0) groups.push(group);
    const merged = groups.filter((g) => g.length > 1);
    if (merged.length === 0) continue;
    const id = newId();
    const work = join(ctx.paths.tmp, id);
    await ensureDir(work);
    const written: ManifestFile[] = [];
    try {
      for (const [n, g] of merged.entries()) {
        const tmp = join(work, `${n}.parquet`);
        const sources = g.map((f) => join(ctx.paths.root, f.path));
        const written_ = await ctx.duck.use(async (connection) => {
          const result = await query(
            connection,
            `COPY (SELECT * FROM read_parquet(${litList(sources)}, hive_partitioning = false)) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION ${ctx.compression})`,
            `compacting ${day}`,
          );
          return num(result[0]?.Count);
        });
        const expected = g.reduce((s, f) => s + f.rows, 0);
        if (written_ !== expected) throw new Error(`compaction of ${day} wrote ${written_} rows, expected ${expected}`);
        const rel = dataFileRel(day, n === 0 ? id : `${id}-${n}`);
        await fsyncPath(tmp, ctx.durable);
        await rename(tmp, join(ctx.paths.root, rel));
        const offsets = new Map<string, { topic: string; partition: number; first: bigint; last: bigint }>();
        for (const f of g) {
          for (const o of f.offsets ?? []) {
            const key = `${o.topic}\u0000${o.partition}`;
            const seen = offsets.get(key);
            const first = BigInt(o.first);
            const last = BigInt(o.last);
            if (!seen) offsets.set(key, { topic: o.topic, partition: o.partition, first, last });
            else {
              if (first < seen.first) seen.first = first;
              if (last > seen.last) seen.last = last;
            }
          }
        }
        const offsetList = [...offsets.values()]
          .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
          .map((o) => ({ topic: o.topic, partition: o.partition, first: o.first.toString(), last: o.last.toString() }));
        written.push({
          path: rel,
          day,
          rows: expected,
          bytes: (await stat(join(ctx.paths.root, rel))).size,
          minEventTime: Math.min(...g.map((f) => f.minEventTime)),
          maxEventTime: Math.max(...g.map((f) => f.maxEventTime)),
          ...(offsetList.length > 0 ? { offsets: offsetList } : {}),
        });
      }
      await fsyncPath(join(ctx.paths.data, `day=${day}`), ctx.durable);
      const replaced = merged.flat().map((f) => f.path);
      await ctx.commits.run(() =>
        ctx.manifest.commit({ id, kind: 'compact', replaces: replaced, files: written, ranges: [], quarantine: null, records: 0, accepted: 0, quarantined: 0 }),
      );
      for (const path of replaced) await rm(join(ctx.paths.root, path), { force: true });
      filesBefore += replaced.length;
      filesAfter += written.length;
      rows += written.reduce((s, f) => s + f.rows, 0);
      commits++;
    } catch (error) {
      for (const f of written) await rm(join(ctx.paths.root, f.path), { force: true });
      throw error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    options.onProgress?.({ phase: 'compact', step: day, done: index + 1, total: days.length, unit: 'days', elapsedMs: Date.now() - started });
  }
  return { days: commits, filesBefore, filesAfter, rows, commits };
}
