/**
 * `lambdaline start`: every layer in one process against Kafka — the archiver
 * (Kafka → master dataset), a batch every `--batch-every`, the speed layer
 * following each new snapshot's horizon, the serving layer over both, HTTP.
 * With `--feed-topic` the speed views are also published to that compacted
 * topic, for `serve` replicas in other processes.
 */
import { createKafkaSpeedLayer, kafkaArchiveSource, openDataset, serveInProcess, startBatchAndArchive, startSpeed } from '../compose.js';
import type { ExitCode } from '../exit-codes.js';
import { connectToEventsTopic } from '../kafka.js';
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
  return lifecycle.runUntilStopped(async () => {
    const { kafka } = await connectToEventsTopic(options, `${options.group}-runner`, log);
    lifecycle.checkpoint();

    const dataset = await openDataset(options.dataset, options.domain, log, lifecycle);
    // What is already in the dataset (history, earlier archives) is served from the start.
    const scheduler = await startBatchAndArchive(dataset, { batchEvery: options.batchEvery, source: kafkaArchiveSource(kafka, options) }, log, lifecycle);

    const speed = createKafkaSpeedLayer(kafka, options, { batchSnapshots: dataset });
    await startSpeed(speed, log, lifecycle, options.feedTopic === undefined ? undefined : { kafka, topic: options.feedTopic });
    if (options.feedTopic !== undefined) log.info('speed', `publishing the speed views to ${options.feedTopic}`);

    const url = await serveInProcess({ dataset, scheduler, speed }, { domain: options.domain, host: options.host, port: options.port, title: `lambdaline · ${options.topic}` }, log, lifecycle);
    scheduler.start();
    log.print(`lambdaline is running on ${options.topic} @ ${options.brokers.join(',')}: dashboard ${url}/ · API ${url}/api/views · Ctrl-C stops`);
  });
}
