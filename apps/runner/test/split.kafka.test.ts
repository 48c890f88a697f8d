/**
 * One process per layer — `batch`, `speed`, `serve` talking through the
 * master dataset's published snapshots and the compacted speed-feed topic —
 * against `start` (all in one process) on the same topic: mid-stream the split
 * deployment answers exactly over what it declares; at the end both answer
 * the same, and that is a fold over every valid event.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaEvent } from '@lambdaline/core';
import { generateEvents } from '@lambdaline/generators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, killAll, runCli } from './helpers/cli.js';
import { SPECS, allValidEvents, coveredEvents, expectRowsEqualFold, expectSameRows, getJson, waitUntil, type Answer } from './helpers/expected.js';
import { BROKERS, TestKafka, freePort, randomName } from './helpers/kafka.js';

const HISTORY = { seed: 11, to: '2024-06-02', days: 1, eventsPerDay: 3_000 };
const LATENESS = '1h';
const kafka = new TestKafka();
let dir: string;
let topic: string;
const processes: CliProcess[] = [];
const history: LambdaEvent[] = [...generateEvents(HISTORY)];

async function query(base: string, view: string): Promise<Answer> {
  const { status, body } = await getJson<Answer>(`${base}/api/views/${view}?limit=10000`);
  expect(status).toBe(200);
  expect(body.truncated).toBe(false);
  return body;
}

function launch(args: string[]): CliProcess {
  const p = new CliProcess(args);
  processes.push(p);
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambdaline-split-test-'));
  topic = await kafka.createTopic('runner-split', 3);
  kafka.track(`${topic}.dead-letters`);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGTERM', 10_000)));
  await killAll();
  await kafka.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('batch, speed and serve in separate processes (real broker)', () => {
  it('answer like start does: exactly mid-stream, the same at the end', async () => {
    const brokers = BROKERS.join(',');
    const feedTopic = kafka.track(`${topic}.feed`);
    const single = { dataset: join(dir, 'single'), group: kafka.trackGroup(randomName('runner-single')), port: await freePort() };
    const split = { dataset: join(dir, 'split'), group: kafka.trackGroup(randomName('runner-split')), port: await freePort() };
    for (const d of [single.dataset, split.dataset]) {
      const h = await runCli(['generate', 'history', '--dataset', d, '--days', '1', '--events-per-day', String(HISTORY.eventsPerDay), '--to', HISTORY.to, '--seed', String(HISTORY.seed)]);
      expect(h.code, h.stderr).toBe(0);
    }
    const common = ['--brokers', brokers, '--topic', topic];
    // `start --feed-topic` also publishes its speed views: a `serve` replica can follow it.
    const singleFeed = kafka.track(`${topic}.single-feed`);
    const start = launch(['start', ...common, '--dataset', single.dataset, '--group', single.group, '--port', String(single.port), '--batch-every', '3s', '--allowed-lateness', LATENESS, '--feed-topic', singleFeed]);
    const batch = launch(['batch', ...common, '--dataset', split.dataset, '--group', split.group, '--batch-every', '3s']);
    const speed = launch(['speed', ...common, '--dataset', split.dataset, '--group', split.group, '--feed-topic', feedTopic, '--allowed-lateness', LATENESS, '--poll', '500ms']);
    const serve = launch(['serve', ...common, '--dataset', split.dataset, '--feed-topic', feedTopic, '--port', String(split.port), '--poll', '500ms']);
    await Promise.all([start.waitFor(/lambdaline is running/), batch.waitFor(/lambdaline batch is archiving/), speed.waitFor(/lambdaline speed is folding/), serve.waitFor(/lambdaline serve: dashboard/)]);
    const replicaPort = await freePort();
    const replica = launch(['serve', ...common, '--dataset', single.dataset, '--feed-topic', singleFeed, '--port', String(replicaPort), '--poll', '500ms']);
    await replica.waitFor(/lambdaline serve: dashboard/);
    const replicaBase = `http://127.0.0.1:${replicaPort}`;

    const producer = launch(['generate', 'stream', ...common, '--rate', '300', '--count', '3000', '--seed', '5', '--malformed-share', '2%', '--late-share', '2%', '--late-by', '2m']);
    const splitBase = `http://127.0.0.1:${split.port}`;
    const singleBase = `http://127.0.0.1:${single.port}`;

    // Mid-stream, the split deployment: batch snapshot from disk + speed views from the feed.
    await waitUntil('a batch of the split deployment covering part of the stream, and speed views past it', async () => {
      const answer = await query(splitBase, 'sensor_5min');
      const covered = answer.horizon.partitions.reduce((s, p) => s + Number(p.endOffset), 0);
      const fromSpeed = answer.consistency.partitions.reduce((s, p) => s + Number(p.nextOffset ?? p.baseOffset) - Number(p.baseOffset), 0);
      return covered > 300 && fromSpeed > 0 ? answer : null;
    });
    expect(producer.running, 'the stream is still running').toBe(true);
    for (const spec of SPECS) {
      const answer = await query(splitBase, spec.name);
      const records = await kafka.readAll(topic);
      expectRowsEqualFold(spec, answer.rows, coveredEvents(answer, topic, history, records, 3_600_000), `split mid-stream ${spec.name} (v${answer.horizon.snapshotVersion}, ${answer.consistency.mode})`);
    }

    expect((await producer.exited).code).toBe(0);
    const ends = await kafka.endOffsets(topic);
    const coveredAll = (answer: Answer) => ends.every((end, p) => Number(answer.horizon.partitions.find((x) => x.partition === p)?.endOffset ?? 0) === end);
    await waitUntil(
      'every deployment covering the whole topic',
      async () => coveredAll(await query(splitBase, 'sensor_5min')) && coveredAll(await query(singleBase, 'sensor_5min')) && coveredAll(await query(replicaBase, 'sensor_5min')),
      120_000,
      500,
    );

    const all = allValidEvents(history, await kafka.readAll(topic));
    for (const spec of SPECS) {
      const a = await query(singleBase, spec.name);
      const b = await query(splitBase, spec.name);
      expectRowsEqualFold(spec, b.rows, all, `split final ${spec.name}`);
      expectSameRows(spec, a.rows, b.rows, `start vs split ${spec.name}`);
      expectSameRows(spec, a.rows, (await query(replicaBase, spec.name)).rows, `start vs a serve replica of it ${spec.name}`);
    }

    // The serve process knows the speed layer only through the feed: status still lists its partitions.
    const status = await getJson<{ speed: { partitions: unknown[] } }>(`${splitBase}/api/status`);
    expect(status.body.speed.partitions).toHaveLength(3);

    for (const p of [replica, serve, speed, batch, start]) {
      const result = await p.stop('SIGTERM');
      expect(result.code, p.output()).toBe(143);
    }
  });
});
