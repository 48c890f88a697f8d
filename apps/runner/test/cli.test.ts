/**
 * The built CLI as a user runs it: help everywhere, usage and config errors
 * exit 2 naming the flag or key, unreachable brokers exit 3, finite commands
 * exit 0. No broker needed (the unreachable one is a closed local port).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, killAll, runCli } from './helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambdaline-cli-test-'));
});
afterAll(async () => {
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

const COMMANDS = [
  ['demo'],
  ['start'],
  ['batch'],
  ['speed'],
  ['serve'],
  ['generate'],
  ['generate', 'history'],
  ['generate', 'stream'],
];

describe('lambdaline CLI', () => {
  it('has --help everywhere', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['demo', 'start', 'batch', 'speed', 'serve', 'generate']) expect(top.stdout).toContain(c);
    expect(top.stdout).toMatch(/Exit codes:/);
    const results = await Promise.all(COMMANDS.map((args) => runCli([...args, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, COMMANDS[i]!.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: lambdaline ${COMMANDS[i]!.join(' ')}`);
    });
    const start = results[1]!.stdout;
    for (const flag of ['--brokers', '--topic', '--dataset', '--port', '--host', '--config', '--batch-every', '--feed-topic', '--dead-letter-topic', '--allowed-lateness', '--group', '--log-level']) {
      expect(start).toContain(flag);
    }
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on a bad flag, naming it', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['start', '--port', 'http'], /option '--port <port>' argument 'http' is invalid/],
      [['start', '--brokers', 'localhost'], /option '--brokers <host:port,...>' argument 'localhost' is invalid/],
      [['start', '--batch-every', '10 minutes'], /option '--batch-every <duration>' argument '10 minutes' is invalid/],
      [['speed', '--allowed-lateness', '-1h'], /option '--allowed-lateness <duration>' argument '-1h' is invalid/],
      [['demo', '--log-level', 'loud'], /option '--log-level <level>' argument 'loud' is invalid. Allowed choices are error, warn, info, debug/],
      [['generate', 'stream', '--malformed-share', '150%'], /option '--malformed-share <share>' argument '150%' is invalid/],
      [['serve', '--topic', 'a b'], /option '--topic <name>' argument 'a b' is invalid/],
      [['start', '--no-such-flag'], /unknown option '--no-such-flag'/],
      [['nope'], /unknown command 'nope'/],
      [[], /Usage: lambdaline/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });

  it('exits 2 on a bad --config, naming the key', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      [
        'schema: { name: s, timeField: ts, fields: { ts: { type: timestamp }, sensor: { type: string }, v: { type: number } } }',
        'views:',
        '  - { name: per_sensor, window: 7m, dimensions: [sensor], measures: [{ name: n, op: count }] }',
      ].join('\n'),
    );
    const result = await runCli(['batch', '--once', '--dataset', join(dir, 'ds-bad'), '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/views\[0\]\.window: "7m" does not divide a day evenly/);
    expect(result.stderr).toContain(bad);

    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ schema: {}, view: [] }));
    const typoResult = await runCli(['serve', '--config', typo]);
    expect(typoResult.code).toBe(2);
    expect(typoResult.stderr).toMatch(/view: unknown key/);

    const missing = await runCli(['start', '--config', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/config: cannot read .*missing\.yaml \(ENOENT\)/);
  });

  it('exits 2 when demo or generate get a config with another schema', async () => {
    const orders = join(__dirname, '..', 'examples', 'orders.json');
    const result = await runCli(['generate', 'history', '--dataset', join(dir, 'ds-orders'), '--config', orders]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--config: the generators make sensor events/);
  });

  it('exits 2 when the dataset was made with another schema', async () => {
    const ds = join(dir, 'ds-schema');
    const history = await runCli(['generate', 'history', '--dataset', ds, '--days', '1', '--events-per-day', '100', '--to', '2024-05-02']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/history: 100 events ingested/);
    const orders = join(__dirname, '..', 'examples', 'orders.json');
    const result = await runCli(['batch', '--once', '--dataset', ds, '--config', orders]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/schema\.\w+.*differs from the schema this dataset was created with/);
  });

  it('batch --once runs a batch over the dataset and exits 0', async () => {
    const ds = join(dir, 'ds-once');
    expect((await runCli(['generate', 'history', '--dataset', ds, '--days', '2', '--events-per-day', '500', '--to', '2024-05-03'])).code).toBe(0);
    // Same options, same files: a second run ingests nothing new.
    const again = await runCli(['generate', 'history', '--dataset', ds, '--days', '2', '--events-per-day', '500', '--to', '2024-05-03']);
    expect(again.stdout).toMatch(/2 of 2 files were already there/);
    const result = await runCli(['batch', '--once', '--dataset', ds]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/snapshot v1: 1000 events, daily_by_category 8 rows, sensor_5min \d+ rows/);
  });

  it('exits 3 when no broker answers', async () => {
    const result = await runCli(['start', '--brokers', '127.0.0.1:1', '--dataset', join(dir, 'ds-none'), '--port', '0']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot reach the Kafka brokers 127\.0\.0\.1:1/);
  });

  it('stops cleanly on Ctrl-C during startup, even when the signal arrives twice', async () => {
    // A long history write keeps the demo starting; the Ctrl-C (and its duplicate) stop it cleanly.
    const demo = new CliProcess(['demo', '--port', '0', '--days', '60', '--events-per-day', '200000', '--dataset', join(dir, 'demo-stopped')]);
    await demo.waitFor(/master dataset/);
    demo.child.kill('SIGINT');
    demo.child.kill('SIGINT');
    const result = await demo.exited;
    expect(result.code, demo.output()).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: shutting down cleanly/);
    expect(result.stderr).toMatch(/stopped \(exit code 130\)/);
    expect(result.stderr).not.toMatch(/again: exiting now/);
    expect(result.stdout).not.toMatch(/demo is running/);
  });

  it('refuses a demo --dataset that is not empty', async () => {
    const result = await runCli(['demo', '--dataset', dir, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--dataset: .* is not empty; the demo needs a fresh dataset/);
  });
});
