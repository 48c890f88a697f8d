/**
 * `lambdaline start` against the real broker, as separate OS processes:
 * history into the dataset, a live stream (malformed and late events
 * included), batches advancing the horizon mid-stream, a kill -9 of the
 * runner mid-stream and a restart, and the HTTP answers compared with core's
 * `foldEvents` over exactly the events each answer says it covers — and, once
 * the last batch covers everything, over every valid event. Then each bad
 * HTTP input gets its JSON error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEvents } from '@lambdaline/generators';
import type { LambdaEvent } from '@lambdaline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, killAll, runCli } from './helpers/cli.js';
import { SPECS, allValidEvents, coveredEvents, expectRowsEqualFold, getJson, waitUntil, type Answer } from './helpers/expected.js';
import { BROKERS, TestKafka, freePort, randomName } from './helpers/kafka.js';

const HISTORY = { seed: 7, to: '2024-05-03', days: 2, eventsPerDay: 2_000 };
const STREAM = { count: 4_000, rate: 250, seed: 9 };
const LATENESS_MS = 5 * 60_000; // late events are pushed back 10 min: too late for the speed layer, counted by the batch

const kafka = new TestKafka();
let dir: string;
let topic: string;
let group: string;
let port: number;
let base: string;
let runner: CliProcess | null = null;
const history: LambdaEvent[] = [...generateEvents(HISTORY)];

const startArgs = () => [
  'start',
  '--brokers', BROKERS.join(','),
  '--topic', topic,
  '--dataset', join(dir, 'dataset'),
  '--port', String(port),
  '--batch-every', '3s',
  '--allowed-lateness', '5m',
  '--group', group,
];

async function query(view: string): Promise<Answer> {
  const { status, body } = await getJson<Answer>(`${base}/api/views/${view}?limit=10000`);
  expect(status).toBe(200);
  expect(body.truncated).toBe(false);
  return body;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambdaline-start-test-'));
  topic = await kafka.createTopic('runner-start', 3);
  kafka.track(`${topic}.dead-letters`);
  group = kafka.trackGroup(randomName('runner-start'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await runner?.stop('SIGTERM', 10_000);
  await killAll();
  await kafka.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('lambdaline start (real broker)', () => {
  it('answers exactly mid-stream, across kill -9 and restart, and over every event at the end', async () => {
    const h = await runCli(['generate', 'history', '--dataset', join(dir, 'dataset'), '--days', String(HISTORY.days), '--events-per-day', String(HISTORY.eventsPerDay), '--to', HISTORY.to, '--seed', String(HISTORY.seed)]);
    expect(h.code, h.stderr).toBe(0);

    runner = new CliProcess(startArgs());
    await runner.waitFor(/lambdaline is running/);

    const producer = new CliProcess([
      'generate', 'stream', '--brokers', BROKERS.join(','), '--topic', topic,
      '--rate', String(STREAM.rate), '--count', String(STREAM.count), '--seed', String(STREAM.seed),
      '--malformed-share', '2%', '--late-share', '3%', '--late-by', '10m',
    ]);

    // Mid-stream: a batch has covered part of the stream, the speed layer the rest.
    const mid = await waitUntil('a batch covering part of the stream', async () => {
      const { body } = await getJson<{ batch: { snapshotVersion: number; horizon: Answer['horizon'] } }>(`${base}/api/status`);
      const covered = body.batch.horizon.partitions.reduce((sum, p) => sum + Number(p.endOffset), 0);
      return covered >= 500 ? body : null;
    });
    expect(producer.running, 'the stream is still running').toBe(true);
    expect(mid.batch.snapshotVersion).toBeGreaterThanOrEqual(2);
    for (const spec of SPECS) {
      const answer = await query(spec.name);
      const records = await kafka.readAll(topic);
      const events = coveredEvents(answer, topic, history, records, LATENESS_MS);
      expect(events.length).toBeGreaterThan(history.length + 500);
      const fromSpeed = answer.consistency.partitions.reduce((sum, p) => sum + Number(p.nextOffset ?? p.baseOffset) - Number(p.baseOffset), 0);
      expect(fromSpeed, 'part of the answer comes from the speed layer').toBeGreaterThan(0);
      expectRowsEqualFold(spec, answer.rows, events, `mid-stream ${spec.name} (snapshot v${answer.horizon.snapshotVersion}, ${answer.consistency.mode})`);
    }

    // kill -9 in the middle of the stream, then start again on the same dataset and groups.
    const killed = await runner.kill9();
    expect(killed.signal).toBe('SIGKILL');
    expect(producer.running, 'the stream is still running after the kill').toBe(true);
    runner = new CliProcess(startArgs());
    await runner.waitFor(/lambdaline is running/);

    // Exact again right after the restart (whatever the pair in use).
    const early = await query('sensor_5min');
    expectRowsEqualFold(SPECS[1]!, early.rows, coveredEvents(early, topic, history, await kafka.readAll(topic), LATENESS_MS), 'after restart sensor_5min');

    const produced = await producer.exited;
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toMatch(new RegExp(`produced ${STREAM.count.toLocaleString('en-US')} events`));

    // The last batch covers every record: answers = a fold over every valid event.
    const ends = await kafka.endOffsets(topic);
    expect(ends.reduce((a, b) => a + b, 0)).toBe(STREAM.count);
    await waitUntil('the batch horizon at the end of the topic', async () => {
      const answer = await query('daily_by_category');
      return ends.every((end, p) => Number(answer.horizon.partitions.find((x) => x.partition === p)?.endOffset ?? 0) === end) ? answer : null;
    }, 120_000, 500);
    const records = await kafka.readAll(topic);
    const all = allValidEvents(history, records);
    // Some events were too late for the speed layer (10 min behind, 5 min allowed): the batch counts them.
    const tooLate = records.flat().filter((r) => {
      const ts = r.value?.match(/"ts":"([^"]+)"/)?.[1];
      return ts !== undefined && Date.parse(ts) < r.timestamp - LATENESS_MS;
    });
    expect(tooLate.length).toBeGreaterThan(0);
    for (const spec of SPECS) {
      const answer = await query(spec.name);
      expectRowsEqualFold(spec, answer.rows, all, `final ${spec.name}`);
    }
    // Malformed events went to the dead-letter topic, with the reason in headers.
    const deadLetters = (await kafka.readAll(`${topic}.dead-letters`)).flat();
    const codes = new Set(deadLetters.map((r) => r.headers['lambdaline-dlq-code']));
    expect(codes.has('too_late'), [...codes].join(',')).toBe(true);
    expect(codes.size).toBeGreaterThan(2);

    const stopped = await runner.stop('SIGTERM');
    expect(stopped.code, runner.output()).toBe(143);
    expect(stopped.stderr).toMatch(/SIGTERM: shutting down cleanly/);
    runner = null;
  });

  it('returns the JSON error for each bad HTTP input', async () => {
    runner = new CliProcess(startArgs());
    await runner.waitFor(/lambdaline is running/);
    const cases: Array<[string, number, string | undefined, RegExp]> = [
      ['/api/views/nope', 404, 'name', /no such view; known views: daily_by_category, sensor_5min/],
      ['/api/views/sensor_5min?limit=0', 400, 'limit', /^limit: must be an integer from 1 to 10000/],
      ['/api/views/sensor_5min?limit=abc', 400, 'limit', /^limit:/],
      ['/api/views/sensor_5min?from=yesterday', 400, 'from', /^from:/],
      ['/api/views/sensor_5min?from=2024-05-02&to=2024-05-01', 400, 'to', /^to: must be after from/],
      ['/api/views/sensor_5min?sensor_id=sensor-7', 400, 'sensor_id', /^sensor_id: .*does not match/],
      ['/api/views/daily_by_category?category=E', 400, 'category', /^category: .*must be one of A, B, C, D/],
      ['/api/views/sensor_5min?bogus=1', 400, 'bogus', /^bogus: unknown parameter/],
      ['/api/views/sensor_5min?limit=1&limit=2', 400, 'limit', /^limit:/],
      ['/api/views/sensor_5min?from=', 400, 'from', /^from:/],
      ['/api/views/nope/stream', 404, 'name', /no such view/],
      ['/api/nothing-here', 404, undefined, /^no route GET \/api\/nothing-here/],
    ];
    for (const [path, status, parameter, message] of cases) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      const body = (await response.json()) as { error: string; parameter?: string };
      expect(body.error, path).toMatch(message);
      expect(body.parameter, path).toBe(parameter);
    }
    const ok = await getJson<Answer>(`${base}/api/views/sensor_5min?sensor_id=sensor_7&from=2024-05-01&to=2024-05-02`);
    expect(ok.status).toBe(200);
    expect(ok.body.rows.length).toBeGreaterThan(0);
    expect(ok.body.rows.every((r) => r.sensor_id === 'sensor_7')).toBe(true);
    expect((await runner.stop('SIGINT')).code).toBe(130);
    runner = null;
  });
});
