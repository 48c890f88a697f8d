/**
 * The wiring shared by the commands: open the dataset, build the speed layer,
 * serve. Only public APIs of the layers; nothing here computes a view.
 */
import { openMasterDataset, type MasterDataset } from '@lambdaline/batch-layer';
import type { BatchSnapshotSource, SpeedViewSource } from '@lambdaline/core';
import { createServingLayer, startServingServer, type StatusProvider } from '@lambdaline/serving-layer';
import type { SpeedLayer } from '@lambdaline/speed-layer';
import type { LoadedDomain } from './config.js';
import type { Lifecycle } from './lifecycle.js';
import { formatCount, type Logger } from './log.js';

export async function openDataset(dir: string, domain: LoadedDomain, log: Logger, lifecycle: Lifecycle): Promise<MasterDataset> {
  const dataset = await openMasterDataset({ dir, schema: domain.schema, views: domain.views });
  lifecycle.onStop('closing the master dataset', () => dataset.close());
  const stats = dataset.stats();
  log.info(
    'batch',
    `master dataset ${dir}: ${formatCount(stats.rows)} events in ${stats.files} files` +
      (stats.firstDay ? ` (${stats.firstDay} … ${stats.lastDay})` : '') +
      `, snapshot ${dataset.latest() ? `v${dataset.latest()!.version}` : 'none yet'}`,
  );
  return dataset;
}

export interface ServeOptions {
  readonly domain: LoadedDomain;
  readonly batch?: BatchSnapshotSource;
  readonly speed?: SpeedViewSource;
  readonly status?: StatusProvider;
  readonly host: string;
  readonly port: number;
  readonly title: string;
}

/** Creates the serving layer over the sources and listens; returns the base URL. */
export async function serve(options: ServeOptions, log: Logger, lifecycle: Lifecycle): Promise<string> {
  const serving = createServingLayer({
    ...(options.batch ? { batch: options.batch } : {}),
    ...(options.speed ? { speed: options.speed } : {}),
    ...(options.status ? { status: options.status } : {}),
    schema: options.domain.schema,
    views: options.domain.views,
  });
  lifecycle.onStop('closing the serving layer', () => serving.close());
  const server = await startServingServer(serving, { port: options.port, host: options.host, title: options.title });
  lifecycle.onStop('closing the HTTP server', () => server.close());
  const displayHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : null;
  const url = displayHost ? server.url.replace(`//${options.host === '::' ? '[::]' : options.host}`, `//${displayHost}`) : server.url;
  log.info('serve', `HTTP on ${server.url} (views: ${options.domain.views.map((v) => v.name).join(', ')})`);
  return url;
}

/** Logs the speed layer's run-time errors; stops the process when its consumer died for good. */
export function watchSpeed(speed: SpeedLayer, log: Logger, lifecycle: Lifecycle): void {
  speed.errors.subscribe({
    next: (error) => {
      if (error.code === 'consumer_failed' && !error.retriable) lifecycle.fail('speed', error);
      else if (error.code === 'data_loss') log.error('speed', error.message);
      else log.warn('speed', error.message);
    },
  });
}
