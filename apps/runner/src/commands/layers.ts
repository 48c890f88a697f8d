/**
 * One command per layer, so each can run in its own process:
 *
 * - `batch`: archiver (Kafka → dataset) + periodic batch runs, publishing
 *   snapshots in core's format under `<dataset>/snapshots`.
 * - `speed`: the Kafka speed layer, following the horizon of the snapshots on
 *   disk, publishing its views to a compacted feed topic.
 * - `serve`: snapshots from the dataset directory + views from the feed topic, HTTP.
 */
import { openMasterDataset, snapshotsDir } from '@lambdaline/batch-layer';
import { ConfigError } from '@lambdaline/core';
import { snapshotDirectorySource, speedFeedSource } from '@lambdaline/serving-layer';
import { createKafkaSpeedLayer, kafkaArchiveSource, openDataset, serve, startBatchAndArchive, startSpeed } from '../compose.js';
import type { LoadedDomain } from '../config.js';
import { describeError, type ExitCode } from '../exit-codes.js';
import { HorizonFollower, readPublishedHorizon } from '../horizon-follower.js';
import { checkBrokers, connectToEventsTopic, createKafka, ensureFeedTopic } from '../kafka.js';
import { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { KafkaCommon, ServeCommon, SpeedCommon } from './common.js';

// ---------------------------------------------------------------- batch

export interface BatchOptions extends KafkaCommon {
  readonly dataset: string;
  readonly batchEvery: number;
  /** Run one batch over what the dataset holds and exit (no Kafka). */
  readonly once: boolean;
  readonly full: boolean;
}

export async function batch(options: BatchOptions, log: Logger): Promise<ExitCode> {
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  if (options.once) {
    return lifecycle.runToCompletion(async () => {
      const dataset = await openDataset(options.dataset, options.domain, log, lifecycle);
      const bar = log.progress('batch', 'batch run', dataset.views.length, 'views');
      const snapshot = await dataset.runBatch({
        ...(options.full ? { mode: 'full' as const } : {}),
        onProgress: (p) => {
          if (p.unit === 'views') bar.update(p.done, p.total);
        },
      });
      bar.update(dataset.views.length);
      bar.stop();
      log.print(
        `snapshot v${snapshot.version}: ${snapshot.run?.recordCount ?? 0} events, ${Object.entries(snapshot.views)
          .map(([name, rows]) => `${name} ${rows.length} rows`)
          .join(', ')}, in ${snapshotsDir(options.dataset)}`,
      );
    });
  }
  return lifecycle.runUntilStopped(async () => {
    const { kafka } = await connectToEventsTopic(options, `${options.group}-batch`, log);
    lifecycle.checkpoint();
    const dataset = await openDataset(options.dataset, options.domain, log, lifecycle);
    const scheduler = await startBatchAndArchive(dataset, { batchEvery: options.batchEvery, source: kafkaArchiveSource(kafka, options) }, log, lifecycle);
    scheduler.start();
    log.print(`lambdaline batch is archiving ${options.topic} into ${options.dataset} and publishing a snapshot every ${options.batchEvery / 1000} s to ${snapshotsDir(options.dataset)}`);
  });
}

// ---------------------------------------------------------------- speed

export interface SpeedOptions extends KafkaCommon, SpeedCommon {
  readonly dataset: string;
  readonly feedTopic: string;
  readonly pollMs: number;
}

export async function speed(options: SpeedOptions, log: Logger): Promise<ExitCode> {
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  return lifecycle.runUntilStopped(async () => {
    await checkDatasetSchema(options.dataset, options.domain);
    const { kafka } = await connectToEventsTopic(options, `${options.group}-speed`, log);
    const dir = snapshotsDir(options.dataset);
    const initial = await readPublishedHorizon(dir);
    log.info('speed', initial ? `starting from the horizon of batch snapshot v${initial.version}` : `no batch snapshot in ${dir} yet: starting from offset 0`);
    const layer = createKafkaSpeedLayer(kafka, options, initial ? { horizon: initial.horizon } : {});
    await startSpeed(layer, log, lifecycle, { kafka, topic: options.feedTopic });
    const follower = new HorizonFollower(dir, options.pollMs, log, initial, (published) => layer.setHorizon(published.horizon));
    follower.start();
    lifecycle.onStop('stopping the snapshot follower', () => follower.stop());
    log.print(`lambdaline speed is folding ${options.topic} past the horizon of ${dir} and publishing to ${options.feedTopic}`);
  });
}

// ---------------------------------------------------------------- serve

export interface ServeOptions extends ServeCommon {
  readonly domain: LoadedDomain;
  readonly brokers: readonly string[];
  readonly dataset: string;
  readonly feedTopic: string;
  readonly group: string;
  readonly pollMs: number;
}

export async function serveCommand(options: ServeOptions, log: Logger): Promise<ExitCode> {
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  return lifecycle.runUntilStopped(async () => {
    await checkDatasetSchema(options.dataset, options.domain);
    const kafka = createKafka(options.brokers, `${options.group}-serve`, log);
    await checkBrokers(options.brokers, log);
    await ensureFeedTopic(kafka, options.feedTopic, log);
    const dir = snapshotsDir(options.dataset);
    const batchSource = snapshotDirectorySource(dir, {
      pollMs: options.pollMs,
      onError: (error) => log.warn('serve', `cannot read the published snapshot in ${dir} (serving the last good one): ${error.message}`),
    });
    lifecycle.onStop('stopping the snapshot reader', () => batchSource.close());
    const first = await batchSource.start();
    log.info('serve', first ? `batch snapshot v${first.version} from ${dir}` : `no batch snapshot in ${dir} yet`);
    const feed = speedFeedSource({
      kafka,
      topic: options.feedTopic,
      // No groupId: the reader makes its own throwaway group, never commits, deletes it on close.
      onError: (error) => log.warn('serve', `speed feed: ${describeError(error)}`),
    });
    lifecycle.onStop('closing the speed feed reader', () => feed.close());
    await feed.start();
    lifecycle.checkpoint();
    const url = await serve(
      {
        domain: options.domain,
        batch: batchSource,
        speed: feed,
        host: options.host,
        port: options.port,
        title: `lambdaline · ${options.feedTopic}`,
      },
      log,
      lifecycle,
    );
    log.print(`lambdaline serve: dashboard ${url}/ · API ${url}/api/views (snapshots from ${dir}, speed views from ${options.feedTopic}) · Ctrl-C stops`);
  });
}

/**
 * `speed` and `serve` do not write the dataset (the `batch` process holds it),
 * but one made with another schema than --config would be served wrong: open
 * it read-only once, which checks the schema and views (core errors naming the key).
 * A dataset that does not exist yet is fine: the batch process will create it.
 */
async function checkDatasetSchema(datasetDir: string, domain: LoadedDomain): Promise<void> {
  let dataset;
  try {
    dataset = await openMasterDataset({ dir: datasetDir, readOnly: true, schema: domain.schema, views: domain.views });
  } catch (error) {
    if (error instanceof ConfigError && error.field === 'dir') return;
    throw error;
  }
  await dataset.close();
}
