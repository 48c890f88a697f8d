/**
 * A batch run: take the manifest as of now (ingest that lands during the run
 * belongs to the next one), compute every view with DuckDB into a new version
 * directory, publish it atomically with the horizon it covers.
 *
 * Incremental runs recompute only the UTC days that received files since the
 * previous snapshot (for windows longer than a day, every day of the windows
 * they touch) and keep the previous rows of all other windows. That is exact
 * because files are immutable and a day's rows depend only on that day's files.
 */
import { copyFile, link, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchRunInfo, ResolvedViewSpec } from '@lambdaline/core';
import { query, num } from './duck.js';
import { ensureDir, newId } from './fsutil.js';
import type { Internals, ProgressListener } from './internals.js';
import { BATCH_STATE_FORMAT } from './layout.js';
import { publishVersion, type PublishedVersion } from './snapshots.js';
import { affectedWindows, aggregateSql, copyViewSql, previousRowsSql, viewFingerprint } from './view-sql.js';

export interface RunBatchOptions {
  /**
   * `incremental` (default) recomputes only what new files touch, when the
   * previous snapshot allows it; `full` recomputes every view from all files.
   * Both give the same rows.
   */
  readonly mode?: 'incremental' | 'full';
  /** Publish a new version even when nothing was committed since the current one. */
  readonly force?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface RunContext {
  readonly internals: Internals;
  readonly views: readonly ResolvedViewSpec[];
  readonly snapshotsDir: string;
  readonly current: PublishedVersion | null;
}

/** Returns the published version, or null when nothing changed (and not forced). */
export async function runBatch(ctx: RunContext, options: RunBatchOptions): Promise<PublishedVersion | null> {
  const { internals, views, current } = ctx;
  const { manifest, layout, duck, faults } = internals;
  const startedAt = new Date();
  const requested = options.mode ?? 'incremental';
  const seq = manifest.seq;
  const files = manifest.filesAt(seq);
  const prevState = current?.state ?? null;
  const usablePrevious = requested === 'incremental' && current !== null && prevState !== null && prevState.manifestSeq <= seq;
  if (usablePrevious && prevState.manifestSeq === seq && !options.force) {
    const unchanged = views.every((v) => prevState.views[v.name] === viewFingerprint(v, layout)) && current.meta.views.length === views.length;
    if (unchanged) return null;
  }
  const changedDays = new Set<string>();
  if (usablePrevious) {
    for (const commit of manifest.commitsBetween(prevState.manifestSeq, seq)) {
      if (commit.kind === 'compact') continue; // the same rows in fewer files: nothing to recompute
      for (const f of commit.files) changedDays.add(f.day);
    }
  }
  const allDays = new Set(files.map((f) => f.day));
  const version = (current?.meta.version ?? 0) + 1;
  const stagingDir = join(ctx.snapshotsDir, `.tmp-v${version}-${newId()}`);
  await ensureDir(stagingDir);
  try {
    return await computeAndPublish();
  } catch (error) {
    await rm(stagingDir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }

  async function computeAndPublish(): Promise<PublishedVersion> {
    const written: Array<{ name: string; rows: number; file: string }> = [];
    const daysRead = new Set<string>();
    let anyFull = false;
    const progress = (step: string, done: number, total: number | null, unit: 'views' | 'percent') =>
      options.onProgress?.({ phase: 'batch', step, done, total, unit, elapsedMs: Date.now() - startedAt.getTime() });
    for (const [index, spec] of views.entries()) {
      const file = `${spec.name}.ndjson`;
      const out = join(stagingDir, file);
      const fingerprint = viewFingerprint(spec, layout);
      const previous = usablePrevious ? current.meta.views.find((v) => v.name === spec.name) : undefined;
      // Days partition the files by the schema's event time, which every view windows on (core refuses another).
      const incremental = previous !== undefined && prevState!.views[spec.name] === fingerprint;
      progress(spec.name, index, views.length, 'views');
      let rows: number;
      if (incremental && changedDays.size === 0) {
        rows = previous.rows;
        await linkOrCopy(join(current!.dir, previous.file), out);
      } else {
        let sources: string[];
        if (incremental) {
          const { readDays, keep } = affectedWindows(spec, changedDays);
          const readFiles = files.filter((f) => readDays.has(f.day));
          for (const d of readDays) if (allDays.has(d)) daysRead.add(d);
          sources = [
            ...(readFiles.length > 0 ? [aggregateSql(spec, layout, readFiles.map((f) => join(internals.paths.root, f.path)))] : []),
            previousRowsSql(spec, layout, join(current!.dir, previous.file), keep),
          ];
        } else {
          anyFull = true;
          sources = files.length > 0 ? [aggregateSql(spec, layout, files.map((f) => join(internals.paths.root, f.path)))] : [];
        }
        if (sources.length === 0) {
          rows = 0;
          await writeFile(out, '');
        } else {
          const result = await duck.use((connection) =>
            query(connection, copyViewSql(spec, layout, sources, out), `computing view ${spec.name}`, (p) => {
              if (p.percent !== null) progress(spec.name, p.percent, 100, 'percent');
            }),
          );
          rows = num(result[0]?.Count);
        }
      }
      written.push({ name: spec.name, rows, file });
      await faults.afterViewWritten?.({ view: spec.name, version });
    }
    progress('publish', views.length, views.length, 'views');
    if (anyFull) for (const d of allDays) daysRead.add(d);
    const finishedAt = new Date();
    const recordCount = files.reduce((sum, f) => sum + f.rows, 0);
    const run: BatchRunInfo = {
      mode: anyFull ? 'full' : 'incremental',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      recordCount,
      daysRecomputed: daysRead.size,
    };
    return publishVersion(ctx.snapshotsDir, {
      version,
      stagingDir,
      createdAt: finishedAt.toISOString(),
      horizon: manifest.horizonAt(seq),
      run,
      views: written,
      state: {
        format: BATCH_STATE_FORMAT,
        manifestSeq: seq,
        recordCount,
        views: Object.fromEntries(views.map((v) => [v.name, viewFingerprint(v, layout)])),
      },
      durable: internals.durable,
      beforeSwitch: () => faults.beforePublish?.({ version }),
    });
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to); // both files are immutable: sharing the inode is safe
  } catch {
    await copyFile(from, to);
  }
}
