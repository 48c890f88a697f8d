/**
 * `lambdaline generate history|stream`: sample sensor events from
 * @lambdaline/generators, into a master dataset or onto a Kafka topic.
 */
import { resolve } from 'node:path';
import { liveMessages, produceToKafka } from '@lambdaline/generators';
import type { LoadedDomain } from '../config.js';
import { UsageError, type ExitCode } from '../exit-codes.js';
import { generateAndIngestHistory } from '../history.js';
import { connectToEventsTopic } from '../kafka.js';
import { Lifecycle } from '../lifecycle.js';
import { formatCount, formatMs, type Logger } from '../log.js';
import { openDataset } from '../compose.js';

function requireSensorSchema(domain: LoadedDomain): void {
  if (!domain.defaultSchema) {
    throw new UsageError(
      `--config: the generators make sensor events (core's default schema); ${domain.source} has another schema. Feed your own events with your own producer`,
      '--config',
    );
  }
}

export interface HistoryCommandOptions {
  readonly domain: LoadedDomain;
  readonly dataset: string;
  readonly days: number;
  readonly eventsPerDay: number;
  readonly seed: number | string;
  readonly to: number;
  readonly out?: string;
  readonly ifEmpty: boolean;
}

export async function generateHistory(options: HistoryCommandOptions, log: Logger): Promise<ExitCode> {
  requireSensorSchema(options.domain);
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  return lifecycle.runToCompletion(async () => {
    const dataset = await openDataset(options.dataset, options.domain, log, lifecycle);
    if (options.ifEmpty && dataset.stats().rows > 0) {
      log.print(`history: ${options.dataset} already holds ${formatCount(dataset.stats().rows)} events; nothing to do (--if-empty)`);
      return; // runToCompletion shuts down
    }
    const summary = await generateAndIngestHistory(
      dataset,
      {
        seed: options.seed,
        days: options.days,
        eventsPerDay: options.eventsPerDay,
        toMs: options.to,
        signal: lifecycle.signal,
        ...(options.out === undefined ? {} : { outDir: resolve(options.out) }),
      },
      log,
    );
    log.print(
      `history: ${formatCount(summary.accepted)} events ingested into ${options.dataset}` +
        (summary.skipped > 0 ? ` (${summary.skipped} of ${summary.files} files were already there: same seed and range)` : '') +
        (options.out ? `; Parquet files kept in ${options.out}` : ''),
    );
  });
}

export interface StreamCommandOptions {
  readonly domain: LoadedDomain;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly rate: number;
  readonly count: number;
  readonly malformedShare: number;
  readonly lateShare: number;
  readonly lateBy: number;
  readonly seed: number | string;
  readonly startIndex: number;
}

export async function generateStream(options: StreamCommandOptions, log: Logger): Promise<ExitCode> {
  requireSensorSchema(options.domain);
  const lifecycle = new Lifecycle(log);
  lifecycle.trapSignals();
  return lifecycle.runToCompletion(async () => {
    const { kafka, partitions } = await connectToEventsTopic(options, 'lambdaline-generate', log);
    const bar = log.progress('stream', `producing to ${options.topic}`, Number.isFinite(options.count) ? options.count : null, 'events');
    const started = Date.now();
    const result = await produceToKafka({
      kafka,
      topic: options.topic,
      source: liveMessages({
        seed: options.seed,
        rate: options.rate,
        count: options.count,
        startIndex: options.startIndex,
        malformedShare: options.malformedShare,
        lateShare: options.lateShare,
        lateByMs: options.lateBy,
        clock: Date.now,
      }),
      // A signal stops producing; the batch in flight completes, then we report and exit.
      signal: lifecycle.signal,
      onProgress: ({ produced }) => bar.update(produced),
    });
    bar.update(result.produced);
    const invalid = Object.entries(result.byExpected)
      .filter(([code]) => code !== 'valid')
      .reduce((sum, [, n]) => sum + (n ?? 0), 0);
    bar.stop();
    log.print(
      `produced ${formatCount(result.produced)} events to ${options.topic} (${partitions} partitions) in ${formatMs(Date.now() - started)}: ` +
        `${formatCount(result.byExpected.valid ?? 0)} valid, ${formatCount(invalid)} malformed` +
        `; next --start-index ${options.startIndex + result.produced}`,
    );
  });
}
