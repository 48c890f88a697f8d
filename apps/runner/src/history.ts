/**
 * Sample history into a master dataset: the generators write Parquet by day,
 * the batch layer ingests it (validating every row), each with a progress bar.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterDataset } from '@lambdaline/batch-layer';
import { planEvents, writeHistory } from '@lambdaline/generators';
import { formatCount, formatMs, type Logger } from './log.js';

export interface HistoryOptions {
  readonly seed: number | string;
  readonly days: number;
  readonly eventsPerDay: number;
  /** Exclusive end, epoch ms. */
  readonly toMs: number;
  /** Keep the Parquet files here; default: a temporary directory, removed afterwards. */
  readonly outDir?: string;
  readonly signal?: AbortSignal;
}

export interface HistorySummary {
  readonly events: number;
  readonly files: number;
  readonly accepted: number;
  readonly quarantined: number;
  readonly skipped: number;
}

export async function generateAndIngestHistory(dataset: MasterDataset, options: HistoryOptions, log: Logger): Promise<HistorySummary> {
  const run = { seed: options.seed, to: options.toMs, days: options.days, eventsPerDay: options.eventsPerDay };
  const plan = planEvents(run);
  const dir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'lambdaline-history-')));
  try {
    const from = new Date(plan.from).toISOString().slice(0, 16).replace('T', ' ');
    const to = new Date(plan.to).toISOString().slice(0, 16).replace('T', ' ');
    const writing = log.progress('history', `writing history ${from} → ${to} UTC`, plan.total, 'events');
    const started = Date.now();
    const written = await writeHistory({
      ...run,
      dir,
      threads: 2,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: ({ done }) => writing.update(done),
    });
    writing.update(written.total);
    writing.stop(`wrote ${formatCount(written.total)} events in ${written.files.length} Parquet files (${formatMs(Date.now() - started)})`);

    const total = written.files.reduce((sum, f) => sum + f.rows, 0);
    const ingesting = log.progress('history', 'ingesting into the master dataset', total, 'events');
    const doneByFile = new Map<string, number>();
    const ingestStarted = Date.now();
    const report = await dataset.ingestFiles(
      written.files.map((f) => f.path),
      {
        onProgress: (p) => {
          if (p.unit === 'rows') doneByFile.set(p.step, p.done);
          ingesting.update([...doneByFile.values()].reduce((a, b) => a + b, 0));
        },
      },
    );
    ingesting.update(total);
    ingesting.stop(
      `ingested ${formatCount(report.accepted)} events (${formatCount(report.quarantined)} quarantined, ${report.skipped} files already there) in ${formatMs(Date.now() - ingestStarted)}`,
    );
    for (const f of report.files) if (f.status === 'failed') log.error('history', `${f.path}: ${f.reason ?? 'failed'}`);
    return { events: written.total, files: written.files.length, accepted: report.accepted, quarantined: report.quarantined, skipped: report.skipped };
  } finally {
    if (options.outDir === undefined) await rm(dir, { recursive: true, force: true });
  }
}
