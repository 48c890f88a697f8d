/**
 * `lambdaline start`: every layer in one process against Kafka — the archiver
 * (Kafka → master dataset), a batch every `--batch-every`, the speed layer
 * following each new snapshot's horizon, the serving layer over both, HTTP.
 * With `--feed-topic` the speed views are also published to that compacted
 * topic, for `serve` replicas in other processes.
 */
import { createSpeedLayer, kafkaSource, publishSpeedFeed, type SpeedFeedPublisher } from '@lambdaline/speed-layer';
import { KafkaArchiveFeed } from '../archive-feed.js';
import { BatchScheduler } from '../batch-scheduler.js';
import { openDataset, serve, watchSpeed } from '../compose.js';
import type { ExitCode } from '../exit-codes.js';
import { checkBrokers, createKafka, ensureEventsTopic, ensureFeedTopic, CONSUMER_TIMEOUTS } from '../kafka.js';
import { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { KafkaCommon, ServeCommon, SpeedCommon } from './common.js';

export interface StartOptions extends KafkaCommon, ServeCommon, SpeedCommon {
  readonly dataset: string;
  readonly batchEvery: number;
  /** Publish the speed views here too (off when undefined). */
  readonly feedTopic?: string;
}

export async function start(options: StartOptions, log: Logger): Promise<ExitCode> {
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  try {
    const kafka = createKafka(options.brokers, `${options.group}-runner`, log);
    await checkBrokers(options.brokers, log);
    await ensureEventsTopic(kafka, options.topic, options.partitions, log);
    lifecycle.checkpoint();

    const dataset = await openDataset(options.dataset, options.domain, log, lifecycle);
    let feed: KafkaArchiveFeed | null = null;
    const scheduler = new BatchScheduler(dataset, log, { everyMs: options.batchEvery, beforeRun: async () => feed?.flush() });
    // What is already in the dataset (history, earlier archives) is served from the start.
    await scheduler.runNow(true);
    lifecycle.checkpoint();

    feed = new KafkaArchiveFeed(dataset, log, { kafka, topic: options.topic, groupId: `${options.group}-archiver` });
    const archive = feed;
    lifecycle.onStop('committing the archive', () => archive.stop());
    lifecycle.onStop('stopping the batch schedule', () => scheduler.stop());
    lifecycle.watch('archiver', feed.failed);
    await feed.start();
    lifecycle.checkpoint();

    const speed = createSpeedLayer({
      source: kafkaSource({
        kafka,
        topic: options.topic,
        groupId: `${options.group}-speed`,
        deadLetterTopic: options.deadLetterTopic,
        consumer: { ...CONSUMER_TIMEOUTS, maxWaitTimeInMs: 100 },
      }),
      domain: options.domain,
      batchSnapshots: dataset,
      allowedLateness: options.allowedLateness,
    });
    watchSpeed(speed, log, lifecycle);
    let publisher: SpeedFeedPublisher | null = null;
    lifecycle.onStop('stopping the speed layer', async () => {
      await speed.stop();
      await publisher?.stop();
    });
    await speed.start();
    lifecycle.checkpoint();

    if (options.feedTopic !== undefined) {
      await ensureFeedTopic(kafka, options.feedTopic, log);
      publisher = await publishSpeedFeed(speed, { kafka, topic: options.feedTopic });
      log.info('speed', `publishing the speed views to ${options.feedTopic}`);
    }

    const url = await serve(
      {
        domain: options.domain,
        batch: dataset,
        speed,
        status: { batch: () => scheduler.status(), speed: () => speed.status() },
        host: options.host,
        port: options.port,
        title: `lambdaline · ${options.topic}`,
      },
      log,
      lifecycle,
    );
    scheduler.start();
    log.print(`lambdaline is running on ${options.topic} @ ${options.brokers.join(',')}: dashboard ${url}/ · API ${url}/api/views · Ctrl-C stops`);
  } catch (error) {
    if (lifecycle.stoppedDuringStartup()) return lifecycle.wait();
    await lifecycle.shutdown(0);
    throw error;
  }
  return lifecycle.wait();
}
