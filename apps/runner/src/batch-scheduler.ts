/**
 * Periodic batch runs: commit what the archiver holds, then recompute the
 * views and publish a snapshot with its horizon (the batch layer does the
 * work; this only keeps time and reports). A failed run is logged and retried
 * at the next tick; the last good snapshot stays published.
 */
import type { BatchSnapshot } from '@lambdaline/core';
import type { MasterDataset } from '@lambdaline/batch-layer';
import type { BatchStatusReport } from '@lambdaline/serving-layer';
import { describeError } from './exit-codes.js';
import { formatCount, formatMs, type Logger } from './log.js';

export interface BatchSchedulerOptions {
  readonly everyMs: number;
  /** Called before each run (the archive feed's flush). */
  readonly beforeRun?: () => Promise<void>;
  /**
   * Merge each day's small files (the archiver writes one per day per commit)
   * after every this many runs; 0 = never. Default 10.
   */
  readonly compactEvery?: number;
}

export class BatchScheduler {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<BatchSnapshot | null> | null = null;
  private nextRunAt: number | null = null;
  private lastError: string | null = null;
  private stopped = false;
  private runs = 0;

  constructor(
    private readonly dataset: MasterDataset,
    private readonly log: Logger,
    private readonly options: BatchSchedulerOptions,
  ) {}

  /** Starts the clock: the first scheduled run is `everyMs` from now. */
  start(): void {
    this.schedule();
  }

  /**
   * Runs a batch now (waits for one already running, then runs). Never rejects:
   * errors are logged. `progress`: a progress bar (on a terminal) for a run the user waits for.
   */
  async runNow(progress = false): Promise<BatchSnapshot | null> {
    while (this.current) await this.current;
    this.current = this.run(progress).finally(() => {
      this.current = null;
    });
    return this.current;
  }

  status(): BatchStatusReport {
    return {
      running: this.current !== null,
      lastRun: this.dataset.latest()?.run ?? null,
      nextRunAt: this.nextRunAt === null ? null : new Date(this.nextRunAt).toISOString(),
      lastError: this.lastError,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunAt = null;
    await this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.nextRunAt = Date.now() + this.options.everyMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runNow().finally(() => this.schedule());
    }, this.options.everyMs);
  }

  private async compact(): Promise<void> {
    try {
      const report = await this.dataset.compact();
      if (report.days > 0) {
        this.log.info('batch', `compacted ${report.days} day(s): ${formatCount(report.filesBefore)} small files → ${formatCount(report.filesAfter)} (${formatCount(report.rows)} rows)`);
      }
    } catch (error) {
      // Nothing changed: the small files stay and are merged next time.
      this.log.warn('batch', `compaction failed (retrying later): ${describeError(error)}`);
    }
  }

  private async run(progress: boolean): Promise<BatchSnapshot | null> {
    const before = this.dataset.latest()?.version ?? 0;
    const bar = progress ? this.log.progress('batch', 'batch run', this.dataset.views.length, 'views') : null;
    try {
      await this.options.beforeRun?.();
      const snapshot = await this.dataset.runBatch(bar ? { onProgress: (p) => p.unit === 'views' && bar.update(p.done) } : {});
      bar?.update(this.dataset.views.length);
      bar?.stop();
      this.lastError = null;
      this.runs++;
      const compactEvery = this.options.compactEvery ?? 10;
      if (compactEvery > 0 && this.runs % compactEvery === 0) await this.compact();
      if (snapshot.version !== before) {
        const run = snapshot.run;
        const covered = snapshot.horizon.partitions.map((p) => `${p.partition}@${p.endOffset}`).join(' ');
        this.log.info(
          'batch',
          `published v${snapshot.version}: ${formatCount(run?.recordCount ?? 0)} events, ${run?.mode ?? 'full'}, ${formatMs(run?.durationMs ?? 0)}` +
            (covered ? `; horizon ${covered}` : ''),
        );
      } else {
        this.log.debug('batch', `nothing new since v${snapshot.version}`);
      }
      return snapshot;
    } catch (error) {
      bar?.stop();
      this.lastError = describeError(error);
      this.log.error('batch', `run failed (the last snapshot stays published; retrying next time): ${this.lastError}`);
      return null;
    }
  }
}
