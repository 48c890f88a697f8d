#!/usr/bin/env node
/**
 * Local single-node Apache Kafka broker for lambdaline, without Docker.
 *
 *   node tools/kafka/kafka.mjs start  [--port 9092] [--controller-port 9093] [--data-dir DIR] [--clean] [--timeout 90]
 *   node tools/kafka/kafka.mjs stop   [--port 9092] [--data-dir DIR] [--clean] [--timeout 30]
 *   node tools/kafka/kafka.mjs status [--port 9092] [--data-dir DIR]
 *
 * Environment: KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_DATA_DIR (flags win), JAVA_HOME,
 * KAFKA_CACHE_DIR (where the Maven-resolved jars live, default .cache/kafka/<version>).
 * `start` prints `KAFKA_BROKERS=127.0.0.1:<port>` on stdout (everything else goes to
 * stderr), so `export $(node tools/kafka/kafka.mjs start)` works.
 * Exit codes: 0 ok; 1 failure; 2 usage error; `status` exits 3 when no broker answers.
 */
import { parseArgs } from 'node:util';
import { KAFKA_VERSION, KafkaToolError, brokerStatus, startBroker, stopBroker } from './broker.mjs';

const USAGE = `Usage: node tools/kafka/kafka.mjs <start|stop|status> [options]

Runs a real single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft) from Maven-resolved jars.

Options:
  --port <n>             broker (PLAINTEXT) port            [env KAFKA_PORT, default 9092]
  --controller-port <n>  KRaft controller port              [env KAFKA_CONTROLLER_PORT, default port+1]
  --data-dir <dir>       data, logs and pid file            [env KAFKA_DATA_DIR, default .kafka/broker-<port>]
  --clean                start: wipe the data first; stop: wipe the data after stopping
  --timeout <seconds>    start: wait for the broker to answer (default 90);
                         stop: wait after SIGTERM before SIGKILL (default 30)
  -q, --quiet            only print the result line

Environment: JAVA_HOME (Java 17+), KAFKA_CACHE_DIR (jars, default .cache/kafka/${KAFKA_VERSION}).
The broker log is <data dir>/logs/server.log (warnings and errors also in server-warn.log).
  -h, --help             this help
`;

function fail(message, code = 1) {
  process.stderr.write(`kafka: ${message}\n`);
  process.exit(code);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        'controller-port': { type: 'string' },
        'data-dir': { type: 'string' },
        clean: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail(`${error.message}\n\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const command = positionals[0];
  if (positionals.length !== 1 || !['start', 'stop', 'status'].includes(command)) {
    fail(`expected one command: start, stop or status${positionals.length ? ` (got ${positionals.join(' ')})` : ''}\n\n${USAGE}`, 2);
  }
  let timeoutMs;
  if (values.timeout != null) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0) fail(`--timeout must be a positive number of seconds, got ${JSON.stringify(values.timeout)}`, 2);
    timeoutMs = s * 1000;
  }
  const log = values.quiet ? () => {} : (line) => process.stderr.write(`kafka: ${line}\n`);
  const options = {
    port: values.port,
    controllerPort: values['controller-port'],
    dataDir: values['data-dir'],
    clean: values.clean,
    timeoutMs,
    log,
  };

  if (command === 'start') {
    const result = await startBroker(options);
    process.stdout.write(`KAFKA_BROKERS=${result.brokers}\n`);
  } else if (command === 'stop') {
    await stopBroker(options);
  } else {
    const { settings, pid, answers } = await brokerStatus(options);
    if (answers) {
      process.stdout.write(
        pid != null
          ? `running: Kafka broker (pid ${pid}) at ${settings.bootstrap}, data ${settings.dataDir}, log ${settings.logFile}\n`
          : `running: a Kafka broker answers at ${settings.bootstrap} (not started by this tool for ${settings.dataDir})\n`,
      );
    } else if (pid != null) {
      process.stdout.write(`starting or unhealthy: Kafka broker JVM (pid ${pid}) runs but does not answer at ${settings.bootstrap}; log ${settings.logFile}\n`);
      process.exitCode = 3;
    } else {
      process.stdout.write(`not running: no Kafka broker answers at ${settings.bootstrap}\n`);
      process.exitCode = 3;
    }
  }
}

main().catch((error) => {
  if (error instanceof KafkaToolError) fail(error.message);
  fail(error?.stack ?? String(error));
});
