/**
 * For a speed layer in its own process: follows the batch layer's published
 * snapshots on disk (core's snapshot format: `CURRENT` + immutable version
 * directories) and reports each new horizon. It reads only `CURRENT` and the
 * version's `snapshot.json`, never the rows.
 */
import { join } from 'node:path';
import { horizonKey, readSnapshotMeta, readSnapshotPointer, type Horizon } from '@lambdaline/core';
import type { Logger } from './log.js';

export interface PublishedHorizon {
  readonly version: number;
  readonly horizon: Horizon;
}

export async function readPublishedHorizon(snapshotsDir: string): Promise<PublishedHorizon | null> {
  for (let attempt = 1; ; attempt++) {
    const pointer = await readSnapshotPointer(snapshotsDir);
    if (pointer === null) return null;
    try {
      const meta = await readSnapshotMeta(join(snapshotsDir, pointer));
      return { version: meta.version, horizon: meta.horizon };
    } catch (error) {
      // The version was cleaned up between reading CURRENT and reading it: read CURRENT again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

export class HorizonFollower {
  private timer: NodeJS.Timeout | null = null;
  private version: number;
  private reported: string | null = null;

  constructor(
    private readonly snapshotsDir: string,
    private readonly pollMs: number,
    private readonly log: Logger,
    initial: PublishedHorizon | null,
    private readonly onHorizon: (published: PublishedHorizon) => void,
  ) {
    this.version = initial?.version ?? 0;
  }

  start(): void {
    const tick = async () => {
      try {
        const published = await readPublishedHorizon(this.snapshotsDir);
        this.reported = null;
        if (published && published.version !== this.version) {
          this.version = published.version;
          this.log.info('speed', `batch snapshot v${published.version}: rebuilding from horizon ${horizonKey(published.horizon)}`);
          this.onHorizon(published);
        }
      } catch (error) {
        const message = (error as Error).message;
        if (this.reported !== message) this.log.warn('speed', `cannot read the published snapshot in ${this.snapshotsDir} (keeping the current horizon): ${message}`);
        this.reported = message;
      }
      if (this.timer !== null) this.timer = setTimeout(() => void tick(), this.pollMs);
    };
    this.timer = setTimeout(() => void tick(), this.pollMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
