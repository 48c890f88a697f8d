/**
 * The `lambdaline` command line: flags, validation, help, exit codes. Each
 * command's action parses nothing itself; it gets typed options and calls the
 * composition in `commands/`.
 */
import { Command, CommanderError, Option } from 'commander';
import { loadDomain, type LoadedDomain } from './config.js';
import type { KafkaCommon } from './commands/common.js';
import { demo } from './commands/demo.js';
import { generateHistory, generateStream } from './commands/generate.js';
import { batch, serveCommand, speed } from './commands/layers.js';
import { start } from './commands/start.js';
import { EXIT, describeError, exitCodeFor, type ExitCode } from './exit-codes.js';
import {
  LOG_LEVELS,
  durationAtLeast,
  parseBrokers,
  parseCount,
  parseDurationMs,
  parseGroup,
  parseHost,
  parseIntegerIn,
  parseNonEmpty,
  parsePort,
  parseRate,
  parseSeed,
  parseShare,
  parseTime,
  parseTopic,
  parseTopicOrNone,
  type LogLevel,
} from './flags.js';
import { Logger, type Output } from './log.js';
import { version } from '../package.json';

const DEFAULT_BROKERS = '127.0.0.1:9092';
const DEFAULT_DATASET = './.lambdaline/dataset';

// ---------------------------------------------------------------- shared options

const options = {
  brokers: () =>
    new Option('--brokers <host:port,...>', 'Kafka bootstrap brokers').env('KAFKA_BROKERS').argParser(parseBrokers).default([DEFAULT_BROKERS], DEFAULT_BROKERS),
  topic: () => new Option('--topic <name>', 'the events topic').argParser(parseTopic).default('events'),
  partitions: () => new Option('--partitions <n>', 'partitions of the events topic, when it has to be created').argParser(parseIntegerIn(1, 10_000)).default(3),
  dataset: () => new Option('--dataset <dir>', 'master dataset directory (Parquet by day, manifest, snapshots)').argParser(parseNonEmpty('a directory')).default(DEFAULT_DATASET),
  config: () => new Option('--config <file>', 'your event schema and views, YAML or JSON: { schema, views } (default: sensor events, daily_by_category and sensor_5min)'),
  group: () => new Option('--group <prefix>', 'consumer group prefix: <prefix>-archiver, <prefix>-speed').argParser(parseGroup).default('lambdaline'),
  port: (fallback = 8080) => new Option('--port <port>', 'HTTP port (0 = any free port)').argParser(parsePort).default(fallback),
  host: () => new Option('--host <address>', 'address to listen on (0.0.0.0 for all interfaces)').argParser(parseHost).default('127.0.0.1'),
  batchEvery: (fallback: string) =>
    new Option('--batch-every <duration>', 'time between batch runs (e.g. 30s, 5m, 1h)').argParser(durationAtLeast(1_000, '1s')).default(parseDurationMs(fallback), fallback),
  feedTopic: () => new Option('--feed-topic <name>', 'compacted topic carrying the speed views (default: <topic>.speed-feed)').argParser(parseTopic),
  deadLetterTopic: () =>
    new Option('--dead-letter-topic <name>', 'where invalid and too-late events go, or "none" (default: <topic>.dead-letters)').argParser(parseTopicOrNone),
  allowedLateness: (fallback = '1h') =>
    new Option('--allowed-lateness <duration>', 'how far behind the newest event time an event may be and still count in the speed layer (later ones: by the next batch)')
      .argParser(parseDurationMs)
      .default(parseDurationMs(fallback), fallback),
  poll: () => new Option('--poll <duration>', 'how often to look for a new batch snapshot in the dataset').argParser(durationAtLeast(10, '10ms')).default(1_000, '1s'),
  logLevel: () => new Option('--log-level <level>', 'log verbosity (logs go to stderr)').choices(LOG_LEVELS).default('info'),
  seed: (fallback: number) => new Option('--seed <seed>', 'generator seed: an integer or a word (same seed, same events)').argParser(parseSeed).default(fallback),
};

/** --brokers, --topic and --dataset: the first options of the commands that read the events topic. */
const kafkaOptions = (topic: Option = options.topic()): Option[] => [options.brokers(), topic, options.dataset()];
/** --group and --partitions: the consumer groups, and the events topic when it has to be created. */
const groupOptions = (): Option[] => [options.group(), options.partitions()];
/** --config and --log-level: the last options of every command. */
const commonOptions = (): Option[] => [options.config(), options.logLevel()];

/** Adds options (and groups of them) in the order `--help` lists them. */
function addOptions(command: Command, ...added: ReadonlyArray<Option | readonly Option[]>): Command {
  for (const option of added.flat()) command.addOption(option);
  return command;
}

/** Where commander writes, how it fails (throws instead of exiting) and what it says after an error. */
function configure(command: Command, out: Output): Command {
  return command
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.stdout.write(text), writeErr: (text) => out.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)');
}

interface Common {
  readonly config?: string;
  readonly logLevel: LogLevel;
}

/** The flags of start, batch and speed that become a command's `KafkaCommon`. */
type KafkaOpts = { brokers: string[]; topic: string; group: string; partitions: number };

const kafkaCommon = (o: KafkaOpts, domain: LoadedDomain): KafkaCommon => ({ domain, brokers: o.brokers, topic: o.topic, group: o.group, partitions: o.partitions });
/** --dead-letter-topic: default `<topic>.dead-letters`, "none" (null) for none. */
const deadLetterTopicOf = (o: { topic: string; deadLetterTopic?: string | null }): string | null =>
  o.deadLetterTopic === undefined ? `${o.topic}.dead-letters` : o.deadLetterTopic;
/** --feed-topic of speed and serve: default `<topic>.speed-feed`. */
const feedTopicOf = (o: { topic: string; feedTopic?: string }): string => o.feedTopic ?? `${o.topic}.speed-feed`;

type Action<O> = (opts: O & Common, domain: LoadedDomain, log: Logger) => Promise<ExitCode>;

// ---------------------------------------------------------------- help texts

const EXIT_CODES_HELP = `
Exit codes:
  0    done
  1    runtime failure (I/O, a consumer that died, a batch that cannot publish)
  2    usage or configuration error (a flag, the --config file, a dataset of another schema)
  3    Kafka brokers unreachable (after retries)
  130  stopped by Ctrl-C (SIGINT) after a clean shutdown; 143 for SIGTERM, 129 for SIGHUP`;

export function buildProgram(out: Output, setExitCode: (code: ExitCode) => void): Command {
  const program = configure(new Command('lambdaline'), out);
  program
    .description('lambdaline: a Lambda Architecture over Kafka and DuckDB. Batch, speed and serving layers, in one process or one per layer.')
    .version(version, '-V, --version')
    .addHelpText(
      'after',
      `
Try it without Kafka:
  $ lambdaline demo                      # history, live events, batches, dashboard at http://127.0.0.1:8080/

Against your Kafka, all layers in one process:
  $ lambdaline generate history --days 7
  $ lambdaline start --brokers localhost:9092 --topic events
  $ lambdaline generate stream --brokers localhost:9092 --topic events --rate 500

One process per layer:
  $ lambdaline batch --brokers localhost:9092
  $ lambdaline speed --brokers localhost:9092
  $ lambdaline serve --brokers localhost:9092 --port 8080
${EXIT_CODES_HELP}`,
    );

  const action = <O>(command: Command, run: Action<O>) => {
    command.action(async (opts: O & Common) => {
      const log = new Logger(opts.logLevel, out);
      const domain = await loadDomain(opts.config);
      setExitCode(await run(opts, domain, log));
    });
    return configure(command, out);
  };

  // ---- demo
  action<{ dataset?: string; keep?: boolean; port: number; host: string; days: number; eventsPerDay: number; rate: number; partitions: number; batchEvery: number; seed: number | string; malformedShare: number; lateShare: number; allowedLateness: number }>(
    addOptions(
      program
        .command('demo')
        .description('everything in one process without Kafka or Java: sample history, a live stream, periodic batches, HTTP and the live dashboard'),
      options.port(),
      options.host(),
      new Option('--days <n>', 'days of history to generate (ending now)').argParser(parseIntegerIn(0, 3_650)).default(7),
      new Option('--events-per-day <n>', 'history events per day').argParser(parseIntegerIn(1, 10_000_000)).default(50_000),
      new Option('--rate <events/s>', 'live events per second').argParser(parseRate).default(200),
      new Option('--partitions <n>', 'partitions of the in-process log').argParser(parseIntegerIn(1, 64)).default(3),
      options.batchEvery('20s'),
      options.seed(42),
      new Option('--malformed-share <share>', 'share of malformed live messages (0..1 or a percentage)').argParser(parseShare).default(0.01, '1%'),
      new Option('--late-share <share>', 'share of live events arriving 10 minutes late').argParser(parseShare).default(0.005, '0.5%'),
      options.allowedLateness(),
      new Option('--dataset <dir>', 'put the demo dataset here and keep it (must be empty; default: a temporary directory, removed at the end)').argParser(parseNonEmpty('a directory')),
      new Option('--keep', 'keep the temporary demo dataset when stopping'),
      commonOptions(),
    ).addHelpText('after', `\nExample:\n  $ lambdaline demo --port 3000 --rate 1000 --batch-every 10s\n${EXIT_CODES_HELP}`),
    (o, domain, log) =>
      demo(
        {
          domain,
          ...(o.dataset === undefined ? {} : { dataset: o.dataset }),
          keep: o.keep === true,
          port: o.port,
          host: o.host,
          days: o.days,
          eventsPerDay: o.eventsPerDay,
          rate: o.rate,
          partitions: o.partitions,
          batchEvery: o.batchEvery,
          seed: o.seed,
          malformedShare: o.malformedShare,
          lateShare: o.lateShare,
          allowedLateness: o.allowedLateness,
        },
        log,
      ),
  );

  // ---- start
  action<KafkaOpts & { dataset: string; port: number; host: string; batchEvery: number; feedTopic?: string; deadLetterTopic?: string | null; allowedLateness: number }>(
    addOptions(
      program
        .command('start')
        .description('all layers in one process against Kafka: archiver (Kafka → master dataset), periodic batch, speed layer, serving (HTTP + dashboard)'),
      kafkaOptions(),
      options.port(),
      options.host(),
      options.batchEvery('30s'),
      options.allowedLateness(),
      options.deadLetterTopic(),
      new Option('--feed-topic <name>', 'also publish the speed views to this compacted topic (for `serve` replicas); off by default').argParser(parseTopic),
      groupOptions(),
      commonOptions(),
    ).addHelpText('after', `\nExample:\n  $ lambdaline start --brokers kafka-1:9092,kafka-2:9092 --topic sensor-events --dataset /var/lib/lambdaline --batch-every 5m\n${EXIT_CODES_HELP}`),
    (o, domain, log) =>
      start(
        {
          ...kafkaCommon(o, domain),
          dataset: o.dataset,
          host: o.host,
          port: o.port,
          batchEvery: o.batchEvery,
          allowedLateness: o.allowedLateness,
          deadLetterTopic: deadLetterTopicOf(o),
          ...(o.feedTopic === undefined ? {} : { feedTopic: o.feedTopic }),
        },
        log,
      ),
  );

  // ---- batch
  action<KafkaOpts & { dataset: string; batchEvery: number; once: boolean; full: boolean }>(
    addOptions(
      program
        .command('batch')
        .description('the batch layer alone: archive Kafka into the master dataset and publish a snapshot (views + horizon) every --batch-every'),
      kafkaOptions(),
      options.batchEvery('30s'),
      new Option('--once', 'run one batch over what the dataset holds now and exit (no Kafka)').default(false),
      new Option('--full', 'with --once: recompute every view from all files instead of incrementally').default(false),
      groupOptions(),
      commonOptions(),
    ).addHelpText('after', `\nSnapshots are published in <dataset>/snapshots (core's snapshot format), where \`speed\` and \`serve\` read them.\n${EXIT_CODES_HELP}`),
    (o, domain, log) => batch({ ...kafkaCommon(o, domain), dataset: o.dataset, batchEvery: o.batchEvery, once: o.once, full: o.full }, log),
  );

  // ---- speed
  action<KafkaOpts & { dataset: string; feedTopic?: string; deadLetterTopic?: string | null; allowedLateness: number; poll: number }>(
    addOptions(
      program
        .command('speed')
        .description('the speed layer alone: fold Kafka past the batch horizon (read from <dataset>/snapshots) and publish the views to a compacted feed topic'),
      kafkaOptions(),
      options.feedTopic(),
      options.deadLetterTopic(),
      options.allowedLateness(),
      options.poll(),
      groupOptions(),
      commonOptions(),
    ).addHelpText('after', EXIT_CODES_HELP),
    (o, domain, log) =>
      speed(
        {
          ...kafkaCommon(o, domain),
          dataset: o.dataset,
          feedTopic: feedTopicOf(o),
          deadLetterTopic: deadLetterTopicOf(o),
          allowedLateness: o.allowedLateness,
          pollMs: o.poll,
        },
        log,
      ),
  );

  // ---- serve
  action<{ brokers: string[]; topic: string; group: string; dataset: string; feedTopic?: string; port: number; host: string; poll: number }>(
    addOptions(
      program
        .command('serve')
        .description('the serving layer alone: batch snapshots from <dataset>/snapshots + speed views from the feed topic, merged exactly; HTTP API and dashboard'),
      kafkaOptions(new Option('--topic <name>', 'the events topic (names the default feed topic)').argParser(parseTopic).default('events')),
      options.feedTopic(),
      options.port(),
      options.host(),
      options.poll(),
      options.group(),
      commonOptions(),
    ).addHelpText('after', EXIT_CODES_HELP),
    (o, domain, log) =>
      serveCommand({ domain, brokers: o.brokers, group: o.group, dataset: o.dataset, feedTopic: feedTopicOf(o), port: o.port, host: o.host, pollMs: o.poll }, log),
  );

  // ---- generate
  const generate = configure(
    program.command('generate').description('sample sensor events (core\'s default schema): history into the master dataset, or a live stream onto Kafka'),
    out,
  );

  action<{ dataset: string; days: number; eventsPerDay: number; seed: number | string; to?: number; out?: string; ifEmpty: boolean }>(
    addOptions(
      generate.command('history').description('write seeded history as Parquet (one file per UTC day) and ingest it into the master dataset'),
      options.dataset(),
      new Option('--days <n>', 'days of history').argParser(parseIntegerIn(1, 3_650)).default(7),
      new Option('--events-per-day <n>', 'events per day').argParser(parseIntegerIn(1, 100_000_000)).default(10_000),
      options.seed(1),
      new Option('--to <date>', 'end of the history, exclusive: YYYY-MM-DD (UTC) or ISO-8601 (default: today 00:00 UTC)').argParser(parseTime),
      new Option('--out <dir>', 'also keep the Parquet files here').argParser(parseNonEmpty('a directory')),
      new Option('--if-empty', 'do nothing when the dataset already holds events (for scripts and containers that run this on every start)').default(false),
      commonOptions(),
    ).addHelpText(
        'after',
        `\nThe same options write the same files: ingesting them again is a no-op (the dataset skips content it already has).\n\nExample:\n  $ lambdaline generate history --days 30 --events-per-day 100000 --seed 7\n${EXIT_CODES_HELP}`,
      ),
    (o, domain, log) =>
      generateHistory(
        {
          domain,
          dataset: o.dataset,
          days: o.days,
          eventsPerDay: o.eventsPerDay,
          seed: o.seed,
          to: o.to ?? Math.floor(Date.now() / 86_400_000) * 86_400_000,
          ...(o.out === undefined ? {} : { out: o.out }),
          ifEmpty: o.ifEmpty,
        },
        log,
      ),
  );

  action<KafkaOpts & { rate: number; count: number; malformedShare: number; lateShare: number; lateBy: number; seed: number | string; startIndex: number }>(
    addOptions(
      generate.command('stream').description('produce live sensor events to Kafka at a steady rate (event time = now), keyed by sensor id'),
      options.brokers(),
      options.topic(),
      options.partitions(),
      new Option('--rate <events/s>', 'events per second, or "max"').argParser(parseRate).default(100),
      new Option('--count <n>', 'events to produce, or "inf" (until Ctrl-C)').argParser(parseCount).default(Number.POSITIVE_INFINITY, 'inf'),
      new Option('--malformed-share <share>', 'share of malformed messages (0..1 or a percentage), each with one defect').argParser(parseShare).default(0.01, '1%'),
      new Option('--late-share <share>', 'share of valid events pushed back in time by --late-by').argParser(parseShare).default(0),
      new Option('--late-by <duration>', 'how far late events are pushed back').argParser(durationAtLeast(1, '1ms')).default(600_000, '10m'),
      options.seed(1),
      new Option('--start-index <n>', 'first event index (continue an earlier run with new event ids)').argParser(parseIntegerIn(0, 2 ** 32 - 1)).default(0),
      new Option('--group <prefix>').hideHelp().default('lambdaline'),
      commonOptions(),
    ).addHelpText('after', `\nExample:\n  $ lambdaline generate stream --topic events --rate 1000 --count 60000 --malformed-share 2%\n${EXIT_CODES_HELP}`),
    (o, domain, log) =>
      generateStream(
        {
          domain,
          brokers: o.brokers,
          topic: o.topic,
          partitions: o.partitions,
          rate: o.rate,
          count: o.count,
          malformedShare: o.malformedShare,
          lateShare: o.lateShare,
          lateBy: o.lateBy,
          seed: o.seed,
          startIndex: o.startIndex,
        },
        log,
      ),
  );

  return program;
}

/** Runs the CLI on `argv` (as `process.argv`); resolves with the exit code. */
export async function main(argv: readonly string[], out: Output = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let exitCode: ExitCode = EXIT.ok;
  const program = buildProgram(out, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help / version).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeFor(error);
    out.stderr.write(`lambdaline: ${code === EXIT.usage ? 'error' : 'failed'}: ${describeError(error)}\n`);
    return code;
  }
}
