/**
 * The wiring shared by the commands: open the dataset, run the batch side
 * (archive feed + batch schedule), build the speed layer, serve. Only public
 * APIs of the layers; nothing here computes a view.
 */
import { openMasterDataset, type MasterDataset } from '@lambdaline/batch-layer';
import type { BatchSnapshotSource, SpeedViewSource } from '@lambdaline/core';
import { createServingLayer, startServingServer, type StatusProvider } from '@lambdaline/serving-layer';
import { createSpeedLayer, kafkaSource, publishSpeedFeed, type SpeedFeedPublisher, type SpeedLayer, type SpeedLayerOptions, type SpeedSource } from '@lambdaline/speed-layer';
import type { Kafka } from 'kafkajs';
import { ArchiveFeed } from './archive-feed.js';
import { BatchScheduler } from './batch-scheduler.js';
import type { KafkaCommon, SpeedCommon } from './commands/common.js';
import type { LoadedDomain } from './config.js';
import { CONSUMER_TIMEOUTS, ensureFeedTopic } from './kafka.js';
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

/**
 * The batch side of a process: a batch schedule over the dataset, fed by an
 * archive feed reading `source`. Runs a first batch now (what the dataset already
 * holds is served from the start), then starts the feed; every later batch
 * first commits what the feed's archiver holds, so it covers everything read.
 * On shutdown the schedule stops before the archive commits. The caller starts
 * the schedule's clock (`scheduler.start()`) once everything else is up.
 */
export async function startBatchAndArchive(
  dataset: MasterDataset,
  options: { readonly batchEvery: number; readonly source: SpeedSource },
  log: Logger,
  lifecycle: Lifecycle,
): Promise<BatchScheduler> {
  let feed: ArchiveFeed | null = null;
  const scheduler = new BatchScheduler(dataset, log, { everyMs: options.batchEvery, beforeRun: async () => feed?.flush() });
  await scheduler.runNow(true);
  lifecycle.checkpoint();
  const archive = new ArchiveFeed(dataset, options.source, log);
  feed = archive;
  lifecycle.onStop('committing the archive', () => archive.stop());
  lifecycle.onStop('stopping the batch schedule', () => scheduler.stop());
  lifecycle.watch('archiver', archive.failed);
  await archive.start();
  lifecycle.checkpoint();
  return scheduler;
}

/** The archiver's reader of the events topic on Kafka (consumer group `<group>-archiver`, no dead letters: the archiver quarantines). */
export function kafkaArchiveSource(kafka: Kafka, options: KafkaCommon): SpeedSource {
  return kafkaSource({
    kafka,
    topic: options.topic,
    groupId: `${options.group}-archiver`,
    deadLetterTopic: null,
    consumer: { ...CONSUMER_TIMEOUTS, maxWaitTimeInMs: 250 },
  });
}

/** The speed layer over the events topic on Kafka (consumer group `<group>-speed`), starting from `from`. */
export function createKafkaSpeedLayer(
  kafka: Kafka,
  options: KafkaCommon & SpeedCommon,
  from: Pick<SpeedLayerOptions, 'batchSnapshots' | 'horizon'>,
): SpeedLayer {
  return createSpeedLayer({
    source: kafkaSource({
      kafka,
      topic: options.topic,
      groupId: `${options.group}-speed`,
      deadLetterTopic: options.deadLetterTopic,
      consumer: { ...CONSUMER_TIMEOUTS, maxWaitTimeInMs: 100 },
    }),
    domain: options.domain,
    ...from,
    allowedLateness: options.allowedLateness,
  });
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

/** Serves this process's own dataset and speed layer (`start`, `demo`), with their live status. */
export function serveInProcess(
  layers: { readonly dataset: MasterDataset; readonly scheduler: BatchScheduler; readonly speed: SpeedLayer },
  options: Omit<ServeOptions, 'batch' | 'speed' | 'status'>,
  log: Logger,
  lifecycle: Lifecycle,
): Promise<string> {
  const { dataset, scheduler, speed } = layers;
  return serve({ ...options, batch: dataset, speed, status: { batch: () => scheduler.status(), speed: () => speed.status() } }, log, lifecycle);
}

/**
 * Starts a speed layer, logging its run-time errors and stopping the process
 * when its consumer died for good. With `feed`, its views are also published to
 * that compacted topic. On shutdown the layer stops first (its last changes go
 * out as deltas), then the publisher (writes them).
 */
export async function startSpeed(speed: SpeedLayer, log: Logger, lifecycle: Lifecycle, feed?: { readonly kafka: Kafka; readonly topic: string }): Promise<void> {
  watchSpeed(speed, log, lifecycle);
  let publisher: SpeedFeedPublisher | null = null;
  lifecycle.onStop(feed ? 'stopping the speed layer and its feed publisher' : 'stopping the speed layer', async () => {
    await speed.stop();
    await publisher?.stop();
  });
  await speed.start();
  lifecycle.checkpoint();
  if (feed) publisher = await startFeedPublisher(speed, feed.kafka, feed.topic, log);
}

function watchSpeed(speed: SpeedLayer, log: Logger, lifecycle: Lifecycle): void {
  speed.errors.subscribe({
    next: (error) => {
      if (error.code === 'consumer_failed' && !error.retriable) lifecycle.fail('speed', error);
      else if (error.code === 'data_loss') log.error('speed', error.message);
      else log.warn('speed', error.message);
    },
  });
}

/**
 * Publishes the speed views to a compacted feed topic (created if missing) and
 * logs its delivery errors: a feed that silently stops would leave `serve`
 * replicas answering from stale views.
 */
async function startFeedPublisher(speed: SpeedLayer, kafka: Kafka, topic: string, log: Logger): Promise<SpeedFeedPublisher> {
  await ensureFeedTopic(kafka, topic, log);
  // The topic exists now: the publisher does not create it again. It seeds the feed with every partition the layer holds when it starts.
  const publisher = await publishSpeedFeed(speed, { kafka, topic, createTopic: false });
  publisher.errors.subscribe({ next: (error) => log.warn('speed', `feed ${topic}: ${error.message}`) });
  return publisher;
}
