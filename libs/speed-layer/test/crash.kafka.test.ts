/**
 * kill -9 at an arbitrary moment and restart: a speed layer in a child
 * process consumes while events are produced; every view it reported before
 * dying, and the views of its replacement, equal the fold over exactly the
 * records in [horizon, nextOffset). A horizon change reaches the replacement
 * mid-stream too. No dead letter is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEAD_LETTER_HEADERS, defaultDomain, resolveDomain, type Horizon, type SpeedPartitionView } from '@lambdaline/core';
import { afterAll, describe, expect, it } from 'vitest';
import { sensorMessages, take } from './helpers/events.js';
import { randomName, TestKafka, until } from './helpers/kafka.js';
import { defaultRef, diffViews, HOUR, referenceHorizon, referencePartition } from './helpers/reference.js';

const domain = resolveDomain(defaultDomain);
const ref = defaultRef();
const fixture = fileURLToPath(new URL('./fixtures/speed-child.ts', import.meta.url));

const env = new TestKafka();
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'speed-crash-'));
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await env.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  type: string;
  pid: number;
  view?: SpeedPartitionView;
}

function lines(file: string): Line[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // A line cut by SIGKILL is not JSON: ignore it.
  return text.split('\n').flatMap((l) => {
    try {
      return l ? [JSON.parse(l) as Line] : [];
    } catch {
      return [];
    }
  });
}

function spawnChild(topic: string, groupId: string, horizon: Horizon, out: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, TOPIC: topic, GROUP_ID: groupId, HORIZON: JSON.stringify(horizon), OUT: out },
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

const latest = (all: Line[], pid: number) => {
  const byPartition = new Map<number, SpeedPartitionView>();
  for (const l of all) if (l.type === 'view' && l.pid === pid) byPartition.set(l.view!.partition, l.view!);
  return byPartition;
};

describe('kill -9 and restart', () => {
  it('comes back exactly equal to the fold over [horizon, nextOffset), with no lost dead letter', async () => {
    const topic = await env.topic('crash', 3);
    env.track(`${topic}.dead-letters`);
    const groupId = randomName('crash');
    const gen = sensorMessages({ seed: 303, malformed: 0.02, late: 0.02, lateByMs: 3 * HOUR, jitterMs: 5 * 60_000 });
    await env.produce(topic, take(gen, 3000), 3);
    const h0 = referenceHorizon(topic, await env.readAll(topic), [300, 0, 700], domain.schema);
    const out = join(dir, 'views.ndjson');

    // First life: produce steadily while it consumes, then SIGKILL it mid-stream. Production
    // goes on until the kill (bounded), so a slow child start cannot let it finish first.
    const first = spawnChild(topic, groupId, h0, out);
    let produced = false;
    let killed = false;
    const producing = (async () => {
      for (let i = 0; i < 60 || (!killed && i < 1200); i++) {
        await env.produce(topic, take(gen, 100), 3);
        await new Promise((r) => setTimeout(r, 30));
      }
      produced = true;
    })();
    await until('the first child to report views past 1200', () => {
      const views = latest(lines(out), first.pid!);
      return views.size === 3 && [...views.values()].every((v) => Number(v.nextOffset) > 1200);
    });
    first.kill('SIGKILL');
    killed = true;
    expect(produced, 'killed while events were still being produced').toBe(false);
    await new Promise((r) => first.once('exit', r));

    // Second life, same group and horizon; a new horizon arrives mid-stream.
    const second = spawnChild(topic, groupId, h0, out);
    await until('the second child to start', () => lines(out).some((l) => l.type === 'started' && l.pid === second.pid));
    await producing;
    const sofar = await env.readAll(topic);
    await until('the second child to read what was produced so far', () => {
      const views = latest(lines(out), second.pid!);
      return views.size === 3 && [...views.values()].every((v) => Number(v.nextOffset) === sofar[v.partition]!.length);
    });
    const h1 = referenceHorizon(topic, sofar, [2500, 1000, 2000], domain.schema);
    second.stdin!.write(`${JSON.stringify({ horizon: h1 })}\n`);
    await env.produce(topic, take(gen, 1500), 3);
    const ends = await env.endOffsets(topic);
    await until(
      'the second child to catch up',
      () => {
        const views = latest(lines(out), second.pid!);
        return views.size === 3 && [...views.values()].every((v) => Number(v.nextOffset) === ends[v.partition] && v.baseOffset === h1.partitions.find((p) => p.partition === v.partition)!.endOffset);
      },
      90_000,
    );
    const records = await env.readAll(topic);

    // Every view either life reported is exact for what it covered.
    const reported = lines(out).filter((l) => l.type === 'view');
    expect(reported.filter((l) => l.pid === first.pid).length).toBeGreaterThanOrEqual(3);
    for (const { view, pid } of reported) {
      const expected = referencePartition(records[view!.partition]!, Number(view!.baseOffset), Number(view!.nextOffset), ref);
      expect(diffViews(domain.views, expected.views, view!.views), `pid ${pid} partition ${view!.partition} [${view!.baseOffset}, ${view!.nextOffset})`).toEqual([]);
    }
    const final = latest(lines(out), second.pid!);
    expect([...final.values()].map((v) => v.nextOffset).sort()).toEqual(ends.map(String).sort());

    // Dead letters are at least once: every record rejected past h0 is there (the second life read everything below h1).
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    const [dlq] = await env.readAll(`${topic}.dead-letters`);
    const delivered = new Set(dlq!.map((r) => `${r.headers[DEAD_LETTER_HEADERS.sourcePartition]}:${r.headers[DEAD_LETTER_HEADERS.sourceOffset]}`));
    for (let p = 0; p < 3; p++) {
      const base = Number(h0.partitions.find((x) => x.partition === p)?.endOffset ?? 0);
      const expected = referencePartition(records[p]!, base, records[p]!.length, ref);
      const rejected = [...expected.invalid, ...expected.tooLate];
      expect(rejected.length).toBeGreaterThan(20);
      for (const o of rejected) expect(delivered.has(`${p}:${o}`), `dead letter ${p}:${o}`).toBe(true);
    }
  });
});
