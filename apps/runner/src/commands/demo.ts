/**
 * `lambdaline demo`: everything in one process, no Kafka, no Java. History
 * into a fresh master dataset, a first batch, then a live stream through the
 * speed layer's in-process log (the archiver reads the same log), HTTP and
 * the dashboard, and a batch every `--batch-every` so the horizon moves.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { liveMessages } from '@lambdaline/generators';
import { InProcessLog, createSpeedLayer, inProcessSource } from '@lambdaline/speed-layer';
import { openDataset, serveInProcess, startBatchAndArchive, startSpeed } from '../compose.js';
import type { LoadedDomain } from '../config.js';
import { UsageError, type ExitCode } from '../exit-codes.js';
import { generateAndIngestHistory } from '../history.js';
import { Lifecycle } from '../lifecycle.js';
import { formatCount, type Logger } from '../log.js';

export interface DemoOptions {
  readonly domain: LoadedDomain;
  readonly dataset?: string;
  readonly keep: boolean;
  readonly port: number;
  readonly host: string;
  readonly days: number;
  readonly eventsPerDay: number;
  readonly rate: number;
  readonly partitions: number;
  readonly batchEvery: number;
  readonly seed: number | string;
  readonly malformedShare: number;
  readonly lateShare: number;
  readonly allowedLateness: number;
}

const TOPIC = 'events';

export async function demo(options: DemoOptions, log: Logger): Promise<ExitCode> {
  if (!options.domain.defaultSchema) {
    throw new UsageError(
      `--config: the demo generates sensor events, so its schema must be the default sensor schema (${options.domain.source} has another); views may be your own`,
      '--config',
    );
  }
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  let dir: string;
  if (options.dataset !== undefined) {
    dir = resolve(options.dataset);
    const entries = await readdir(dir).catch(() => [] as string[]);
    if (entries.length > 0) {
      throw new UsageError(
        `--dataset: ${dir} is not empty; the demo needs a fresh dataset (its in-process log starts at offset 0 on every run). Remove it or pick another directory`,
        '--dataset',
      );
    }
  } else {
    dir = join(await mkdtemp(join(tmpdir(), 'lambdaline-demo-')), 'dataset');
  }
  // A temporary dataset goes away with the demo (unless --keep); one the user placed with --dataset stays.
  if (options.dataset === undefined && !options.keep) lifecycle.onStop('removing the demo dataset', () => rm(resolve(dir, '..'), { recursive: true, force: true }));
  else lifecycle.onStop('keeping the demo dataset', () => log.print(`the demo dataset stays in ${dir}`));

  return lifecycle.runUntilStopped(async () => {
    const dataset = await openDataset(dir, options.domain, log, lifecycle);
    const now = Date.now();
    await generateAndIngestHistory(dataset, { seed: options.seed, days: options.days, eventsPerDay: options.eventsPerDay, toMs: now, signal: lifecycle.signal }, log);
    lifecycle.checkpoint();

    // The in-process log stands in for Kafka: the live stream appends, the speed layer and the archiver read.
    const eventLog = new InProcessLog({ [TOPIC]: options.partitions });
    const scheduler = await startBatchAndArchive(
      dataset,
      { batchEvery: options.batchEvery, source: inProcessSource(eventLog, { topic: TOPIC, groupId: 'lambdaline-archiver', maxBatchRecords: 5_000 }) },
      log,
      lifecycle,
    );

    const speed = createSpeedLayer({
      source: inProcessSource(eventLog, { topic: TOPIC }),
      domain: options.domain,
      batchSnapshots: dataset,
      allowedLateness: options.allowedLateness,
    });
    await startSpeed(speed, log, lifecycle);

    const url = await serveInProcess({ dataset, scheduler, speed }, { domain: options.domain, host: options.host, port: options.port, title: 'lambdaline demo' }, log, lifecycle);

    const live = liveMessages({
      seed: options.seed,
      rate: options.rate,
      malformedShare: options.malformedShare,
      lateShare: options.lateShare,
      clock: Date.now,
    }).subscribe({
      next: (message) => eventLog.append(TOPIC, message.raw, { key: message.key }),
      error: (error: unknown) => lifecycle.fail('stream', error),
    });
    lifecycle.onStop('stopping the live stream', () => live.unsubscribe());
    scheduler.start();

    const first = options.days > 0 ? `${formatCount(options.days * options.eventsPerDay)} events of history` : 'no history';
    log.print('');
    log.print(`lambdaline demo is running: ${first}, live events at ${options.rate === Infinity ? 'full speed' : `${formatCount(options.rate)}/s`}, a batch every ${options.batchEvery / 1000} s.`);
    log.print(`  dashboard   ${url}/`);
    log.print(`  API         ${url}/api/views/sensor_5min?sensor_id=sensor_7   ${url}/api/status`);
    log.print(`  metrics     ${url}/metrics`);
    log.print('Watch the batch horizon (dashed line) move right at every batch run. Ctrl-C stops.');
  });
}
