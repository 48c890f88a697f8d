/**
 * The local single-node Kafka broker of lambdaline (KRaft, broker + controller in one JVM),
 * without Docker: Apache Kafka's own jars, pinned in tools/kafka/pom.xml, resolved once with
 * Maven into the git-ignored `.cache/kafka/<version>/libs` and run with `java`.
 *
 * Used by the CLI tools/kafka/kafka.mjs and by tools/test-all.mjs. All progress goes to
 * stderr through the `log` option, so a caller's stdout stays clean.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export const KAFKA_VERSION = '4.1.1';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 9092;

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
const POM = path.join(here, 'pom.xml');
const LOG4J2_CONFIG = path.join(here, 'log4j2.xml');

/** Thrown for every expected failure; the CLI prints `message` without a stack. */
export class KafkaToolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'KafkaToolError';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

function parsePort(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new KafkaToolError(`${name} must be an integer port between 1 and 65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Resolves flags and environment into the broker's settings.
 * Precedence: explicit option > environment (KAFKA_PORT, KAFKA_CONTROLLER_PORT,
 * KAFKA_DATA_DIR) > default. The data dir defaults to `<repo>/.kafka/broker-<port>` so brokers
 * on different ports never share data.
 */
export function resolveSettings(options = {}, env = process.env) {
  const port = parsePort(options.port ?? env.KAFKA_PORT ?? DEFAULT_PORT, options.port != null ? '--port' : 'KAFKA_PORT');
  const controllerPort = parsePort(
    options.controllerPort ?? env.KAFKA_CONTROLLER_PORT ?? port + 1,
    options.controllerPort != null ? '--controller-port' : 'KAFKA_CONTROLLER_PORT',
  );
  if (controllerPort === port) {
    throw new KafkaToolError(`the controller port must differ from the broker port (both are ${port})`);
  }
  const dataDirRaw = options.dataDir ?? env.KAFKA_DATA_DIR ?? path.join(REPO_ROOT, '.kafka', `broker-${port}`);
  const dataDir = path.resolve(dataDirRaw);
  const cacheDir = path.resolve(options.cacheDir ?? env.KAFKA_CACHE_DIR ?? path.join(REPO_ROOT, '.cache', 'kafka', KAFKA_VERSION));
  const host = DEFAULT_HOST;
  return {
    host,
    port,
    controllerPort,
    bootstrap: `${host}:${port}`,
    dataDir,
    cacheDir,
    libsDir: path.join(cacheDir, 'libs'),
    logDir: path.join(dataDir, 'logs'),
    logFile: path.join(dataDir, 'logs', 'server.log'),
    jvmOutFile: path.join(dataDir, 'logs', 'jvm.out'),
    pidFile: path.join(dataDir, 'kafka.pid'),
    propsFile: path.join(dataDir, 'server.properties'),
    kafkaLogDir: path.join(dataDir, 'data'),
  };
}

// ---------------------------------------------------------------------------------------
// Probing

/**
 * True when a Kafka broker at `brokers` (comma-separated host:port list) answers a metadata
 * request (kafkajs admin describeCluster) within `timeoutMs`.
 */
export async function brokerAnswers(brokers, timeoutMs = 3000) {
  const list = String(brokers)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const kafka = new Kafka({
    clientId: 'lambdaline-kafka-tool',
    brokers: list,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(1000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = (async () => {
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    }
  })();
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// ---------------------------------------------------------------------------------------
// Processes

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** True when a process command line is the broker JVM of this data dir. */
function isBrokerCommand(argv, settings) {
  return argv.includes('kafka.Kafka') && argv.includes(settings.propsFile);
}

/** True when `pid` is the broker JVM of this data dir (guards against recycled pids). */
function isOurBroker(pid, settings) {
  if (!isAlive(pid)) return false;
  const argv = cmdlineOf(pid);
  if (argv == null) return true; // no /proc: trust the pid file
  return isBrokerCommand(argv, settings);
}

/** Broker JVMs started for this data dir, found through /proc (pid file lost or stale). */
function findBrokerPids(settings) {
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const pids = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdlineOf(Number(entry));
    if (argv && isBrokerCommand(argv, settings)) pids.push(Number(entry));
  }
  return pids;
}

function readPidFile(settings) {
  try {
    const pid = Number(fs.readFileSync(settings.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid of this data dir's running broker JVM, or null. */
export function runningPid(settings) {
  const pid = readPidFile(settings);
  if (pid != null && isOurBroker(pid, settings)) return pid;
  const found = findBrokerPids(settings);
  return found[0] ?? null;
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(200);
  }
  return !isAlive(pid);
}

// ---------------------------------------------------------------------------------------
// Prerequisites

function javaBinary() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Checks that Java 17+ is installed; returns the java command. */
export function checkJava() {
  const java = javaBinary();
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new KafkaToolError(
      `Java 17 or newer is needed to run the local Kafka broker, but \`${java}\` could not be run (${result.error.code ?? result.error.message}).\n` +
        '  Install a JRE (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME.',
    );
  }
  const text = `${result.stderr}\n${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : NaN;
  if (!(major >= 17)) {
    throw new KafkaToolError(
      `Kafka ${KAFKA_VERSION} needs Java 17 or newer; \`${java} -version\` says: ${text.trim().split('\n')[0] || '(nothing)'}\n` +
        '  Install one (Debian: apt-get install -y openjdk-17-jre-headless) or point JAVA_HOME at it.',
    );
  }
  return java;
}

function checkMaven() {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new KafkaToolError(
      `Maven is needed once to download the Kafka ${KAFKA_VERSION} jars (nothing is cached yet), but \`mvn -v\` failed` +
        `${result.error ? ` (${result.error.code ?? result.error.message})` : ''}.\n` +
        '  Install it (Debian: apt-get install -y maven) and try again.',
    );
  }
}

/**
 * Makes sure the pinned Kafka jars are in the cache, resolving them with Maven the first time.
 * Resolution goes to a private temp folder that is renamed into place, so concurrent first
 * starts never see a half-filled libs folder.
 */
export function ensureKafkaJars(settings, log = () => {}) {
  const marker = path.join(settings.libsDir, '.complete');
  if (fs.existsSync(marker)) return { resolved: false, ms: 0 };
  checkMaven();
  fs.mkdirSync(settings.cacheDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(settings.cacheDir, 'libs.tmp-'));
  log(`Resolving Apache Kafka ${KAFKA_VERSION} jars with Maven (once) into ${path.relative(REPO_ROOT, settings.libsDir) || settings.libsDir} ...`);
  const started = Date.now();
  try {
    const result = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        POM,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (result.error || result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
      throw new KafkaToolError(
        `Maven could not resolve the Kafka ${KAFKA_VERSION} jars (mvn exited ${result.status ?? result.error?.code}).\n` +
          `  Command: mvn -B -f ${POM} dependency:copy-dependencies\n${output}`,
      );
    }
    const jars = fs.readdirSync(staging).filter((f) => f.endsWith('.jar'));
    for (const needed of [`kafka_2.13-${KAFKA_VERSION}.jar`, `kafka-tools-${KAFKA_VERSION}.jar`]) {
      if (!jars.includes(needed)) throw new KafkaToolError(`Maven finished but ${needed} is missing from ${staging}`);
    }
    if (!jars.some((f) => f.startsWith('log4j-slf4j-impl-'))) {
      throw new KafkaToolError(`Maven finished but the log4j-slf4j-impl binding is missing from ${staging}`);
    }
    fs.writeFileSync(path.join(staging, '.complete'), `${jars.length} jars, Kafka ${KAFKA_VERSION}\n`);
    try {
      fs.renameSync(staging, settings.libsDir);
    } catch (error) {
      // Another start won the race (or an incomplete folder is in the way).
      if (fs.existsSync(marker)) {
        fs.rmSync(staging, { recursive: true, force: true });
      } else {
        fs.rmSync(settings.libsDir, { recursive: true, force: true });
        fs.renameSync(staging, settings.libsDir);
      }
    }
    const ms = Date.now() - started;
    log(`Resolved ${jars.length} jars in ${seconds(ms)}.`);
    return { resolved: true, ms };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Configuration

/** The broker's server.properties: one KRaft node that is broker and controller. */
export function serverProperties(settings) {
  const { host, port, controllerPort } = settings;
  return [
    '# Generated by tools/kafka/kafka.mjs on every start; edits are overwritten.',
    '# A single KRaft node that is both broker and controller, for local development and tests.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${settings.kafkaLogDir}`,
    '',
    '# One node: every internal topic has a single replica.',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    '',
    '# Tests join many short-lived groups: no initial rebalance delay.',
    'group.initial.rebalance.delay.ms=0',
    '',
    '# Topics: tests create and delete their own; compacted topics (speed feed) need the cleaner.',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    'log.cleaner.enable=true',
    'log.cleaner.threads=1',
    'log.retention.hours=168',
    'log.retention.check.interval.ms=300000',
    '',
    '# Sized for a small shared development machine.',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    '',
  ].join('\n');
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (not starting with '-'). */
export function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function jvmLogArgs(settings) {
  return [`-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`, `-Dkafka.logs.dir=${settings.logDir}`];
}

function formatStorage(settings, java, log) {
  if (fs.existsSync(path.join(settings.kafkaLogDir, 'meta.properties'))) return false;
  const clusterId = randomClusterId();
  log(`Formatting KRaft storage in ${settings.kafkaLogDir} (cluster id ${clusterId}) ...`);
  const result = spawnSync(
    java,
    [
      ...jvmLogArgs(settings),
      '-cp',
      path.join(settings.libsDir, '*'),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      settings.propsFile,
      '--ignore-formatted',
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new KafkaToolError(
      `kafka.tools.StorageTool format failed (exit ${result.status ?? result.error?.code}):\n${`${result.stdout}${result.stderr}`.trim()}\n` +
        `  See also ${settings.logFile}`,
    );
  }
  return true;
}

function tail(file, lines = 25) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text === '' ? '' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The last lines of the JVM output and of the broker's warnings/errors log (or full log). */
function diagnostics(settings) {
  const parts = [];
  const jvm = tail(settings.jvmOutFile, 15);
  if (jvm) parts.push(`--- last lines of ${settings.jvmOutFile} ---\n${jvm}`);
  const warnFile = path.join(settings.logDir, 'server-warn.log');
  const warn = tail(warnFile, 20);
  if (warn) parts.push(`--- last lines of ${warnFile} ---\n${warn}`);
  else {
    const log = tail(settings.logFile, 20);
    if (log) parts.push(`--- last lines of ${settings.logFile} ---\n${log}`);
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------
// Locking (one start/stop at a time per data dir)

async function withLock(settings, timeoutMs, fn) {
  fs.mkdirSync(settings.dataDir, { recursive: true });
  const lockFile = path.join(settings.dataDir, '.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let holder;
      try {
        holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      if (!Number.isInteger(holder) || holder <= 0) {
        // Just created and not written yet, or garbage left behind long ago.
        let age = 0;
        try {
          age = Date.now() - fs.statSync(lockFile).mtimeMs;
        } catch {
          continue;
        }
        if (age > 5000) fs.rmSync(lockFile, { force: true });
        else await sleep(100);
        continue;
      }
      if (!isAlive(holder)) {
        fs.rmSync(lockFile, { force: true }); // stale lock of a dead process
        continue;
      }
      if (Date.now() > deadline) {
        throw new KafkaToolError(`another kafka.mjs (pid ${holder}) holds ${lockFile}; waited ${seconds(timeoutMs)}`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Commands

async function waitUntilAnswering(settings, pid, timeoutMs, log) {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastNote = started;
  while (Date.now() < deadline) {
    if (pid != null && !isAlive(pid)) {
      fs.rmSync(settings.pidFile, { force: true });
      throw new KafkaToolError(
        `the Kafka broker JVM (pid ${pid}) exited before it answered on ${settings.bootstrap}.\n` +
          `  Broker log: ${settings.logFile}\n  JVM output: ${settings.jvmOutFile}\n` +
          '  If the data dir is from an incompatible setup, `start --clean` wipes it.\n' +
          diagnostics(settings),
      );
    }
    if (await brokerAnswers(settings.bootstrap, 2000)) return Date.now() - started;
    if (Date.now() - lastNote > 10_000) {
      lastNote = Date.now();
      log(`... still waiting for the broker (${seconds(Date.now() - started)}), log: ${settings.logFile}`);
    }
    await sleep(300);
  }
  return null;
}

/**
 * Starts the broker unless one already answers on the port. Idempotent.
 * @returns {Promise<{brokers: string, started: boolean, pid: number|null, settings: object, ms: number}>}
 */
export async function startBroker(options = {}) {
  const log = options.log ?? (() => {});
  const settings = resolveSettings(options);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const begin = Date.now();

  if (options.clean) {
    await stopBroker({ ...options, settings, clean: true });
  }

  return withLock(settings, timeoutMs + 30_000, async () => {
    // Already running? (ours or anybody's: either way there is a broker to use)
    if (await brokerAnswers(settings.bootstrap, 3000)) {
      const pid = runningPid(settings);
      log(
        pid != null
          ? `Kafka broker already running (pid ${pid}) at ${settings.bootstrap}.`
          : `A Kafka broker already answers at ${settings.bootstrap} (not started by this tool: no broker of data dir ${settings.dataDir}).`,
      );
      return { brokers: settings.bootstrap, started: false, pid, settings, ms: Date.now() - begin };
    }

    // Our JVM may still be starting (or hung): wait for it rather than start a second one.
    const existing = runningPid(settings);
    if (existing != null) {
      log(`Kafka broker JVM (pid ${existing}) is running but not answering yet; waiting ...`);
      const ms = await waitUntilAnswering(settings, existing, timeoutMs, log);
      if (ms == null) {
        throw new KafkaToolError(
          `the Kafka broker JVM (pid ${existing}) of ${settings.dataDir} runs but does not answer on ${settings.bootstrap}.\n` +
            `  Look at ${settings.logFile}, then \`node tools/kafka/kafka.mjs stop\` and start again.`,
        );
      }
      return { brokers: settings.bootstrap, started: false, pid: existing, settings, ms: Date.now() - begin };
    }

    for (const [what, port] of [
      ['broker port', settings.port],
      ['controller port', settings.controllerPort],
    ]) {
      if (await portInUse(settings.host, port)) {
        throw new KafkaToolError(
          `${what} ${settings.host}:${port} is already in use by something that is not this data dir's Kafka broker.\n` +
            '  Choose other ports with --port/--controller-port (or KAFKA_PORT/KAFKA_CONTROLLER_PORT).',
        );
      }
    }

    const java = checkJava();
    const jars = ensureKafkaJars(settings, log);

    fs.mkdirSync(settings.logDir, { recursive: true });
    fs.writeFileSync(settings.propsFile, serverProperties(settings));
    formatStorage(settings, java, log);

    log(`Starting Apache Kafka ${KAFKA_VERSION} on ${settings.bootstrap} (controller ${settings.host}:${settings.controllerPort}), data ${settings.dataDir}`);
    const out = fs.openSync(settings.jvmOutFile, 'a');
    const launched = Date.now();
    let child;
    try {
      child = spawn(
        java,
        [
          '-Xms256m',
          '-Xmx1g',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-XX:+ExitOnOutOfMemoryError',
          '-Djava.awt.headless=true',
          ...jvmLogArgs(settings),
          '-cp',
          path.join(settings.libsDir, '*'),
          'kafka.Kafka',
          settings.propsFile,
        ],
        { detached: true, stdio: ['ignore', out, out], cwd: settings.dataDir },
      );
    } finally {
      fs.closeSync(out);
    }
    if (child.pid == null) {
      throw new KafkaToolError(`could not start ${java}: see ${settings.jvmOutFile}`);
    }
    child.unref();
    fs.writeFileSync(settings.pidFile, `${child.pid}\n`);

    const answeredAfter = await waitUntilAnswering(settings, child.pid, timeoutMs, log);
    if (answeredAfter == null) {
      await terminate(child.pid, 15_000);
      fs.rmSync(settings.pidFile, { force: true });
      throw new KafkaToolError(
        `the Kafka broker did not answer on ${settings.bootstrap} within ${seconds(timeoutMs)}; stopped it.\n` +
          `  Broker log: ${settings.logFile}\n  JVM output: ${settings.jvmOutFile}\n` +
          diagnostics(settings),
      );
    }
    const startMs = Date.now() - launched;
    log(`Kafka broker up (pid ${child.pid}) in ${seconds(startMs)}; log ${settings.logFile}`);
    return { brokers: settings.bootstrap, started: true, pid: child.pid, settings, ms: Date.now() - begin, startMs, jars };
  });
}

async function terminate(pid, timeoutMs) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    if (error.code === 'ESRCH') return 'gone';
    throw error;
  }
  if (await waitForExit(pid, timeoutMs)) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if (error.code === 'ESRCH') return 'terminated';
    throw error;
  }
  await waitForExit(pid, 5000);
  return 'killed';
}

/**
 * Stops this data dir's broker: SIGTERM (controlled shutdown), SIGKILL after `timeoutMs`.
 * Always removes the pid file; a no-op when nothing runs. `clean` also wipes the data dir.
 */
export async function stopBroker(options = {}) {
  const log = options.log ?? (() => {});
  const settings = options.settings ?? resolveSettings(options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const run = async () => {
    const pids = new Set(findBrokerPids(settings));
    const fromFile = readPidFile(settings);
    if (fromFile != null && isOurBroker(fromFile, settings)) pids.add(fromFile);
    let stopped = 0;
    for (const pid of pids) {
      const begin = Date.now();
      log(`Stopping Kafka broker (pid ${pid}) ...`);
      const how = await terminate(pid, timeoutMs);
      stopped += 1;
      log(
        how === 'killed'
          ? `Kafka broker (pid ${pid}) did not stop within ${seconds(timeoutMs)}: killed (SIGKILL).`
          : `Kafka broker (pid ${pid}) stopped in ${seconds(Date.now() - begin)}.`,
      );
    }
    fs.rmSync(settings.pidFile, { force: true });
    if (stopped === 0) {
      if (await brokerAnswers(settings.bootstrap, 2000)) {
        log(`No broker of data dir ${settings.dataDir} runs; the broker answering at ${settings.bootstrap} was not started by this tool and is left alone.`);
      } else {
        log(`No Kafka broker running for ${settings.dataDir}.`);
      }
    }
    if (options.clean) {
      wipeDataDir(settings);
      log(`Wiped ${settings.dataDir}.`);
    }
    return { stopped };
  };
  // startBroker(clean) calls this before taking the lock itself.
  return fs.existsSync(settings.dataDir) ? withLock(settings, timeoutMs + 30_000, run) : run();
}

function wipeDataDir(settings) {
  if (!fs.existsSync(settings.dataDir)) return;
  for (const entry of fs.readdirSync(settings.dataDir)) {
    if (entry === '.lock') continue; // held by us while wiping
    fs.rmSync(path.join(settings.dataDir, entry), { recursive: true, force: true });
  }
}

/** What runs: this data dir's broker, and whether anything answers on the port. */
export async function brokerStatus(options = {}) {
  const settings = resolveSettings(options);
  const pid = runningPid(settings);
  const answers = await brokerAnswers(settings.bootstrap, 3000);
  return { settings, pid, answers, running: answers };
}
