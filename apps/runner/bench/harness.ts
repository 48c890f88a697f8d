/**
 * Shared by the runner benchmarks: a real `lambdaline start` (the built CLI)
 * against KAFKA_BROKERS on a fresh topic and dataset, a live stream from
 * `lambdaline generate stream`, and clean-up of everything (processes,
 * topics, groups, directories) even on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../test/helpers/kafka.js';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];

export function spawnCli(args: string[], label: string): { child: ChildProcess; output: () => string; waitFor: (re: RegExp, ms?: number) => Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    child,
    output: () => out,
    waitFor: async (re, ms = 120_000) => {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`${label} exited ${child.exitCode}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`${label}: timed out waiting for ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export async function runCli(args: string[], label: string): Promise<string> {
  const p = spawnCli(args, label);
  const code = await new Promise<number | null>((resolve) => p.child.on('close', resolve));
  if (code !== 0) throw new Error(`${label} exited ${code}:\n${p.output()}`);
  return p.output();
}

export interface Setup {
  readonly topic: string;
  readonly group: string;
  readonly dir: string;
  readonly port: number;
  readonly base: string;
  readonly kafka: Kafka;
}

/** A fresh topic (3 partitions), group prefix, dataset directory and port; all removed by `teardown()`. */
export async function setup(name: string): Promise<Setup> {
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topic = `bench-${name}-${id}`;
  const group = `bench-${name}-${id}`;
  const dir = await mkdtemp(join(tmpdir(), `lambdaline-bench-${name}-`));
  const kafka = new Kafka({ clientId: 'runner-bench', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  cleanups.push(async () => {
    const topics = (await admin.listTopics()).filter((t) => t === topic || t.startsWith(`${topic}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(group));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  return { topic, group, dir, port, base: `http://127.0.0.1:${port}`, kafka };
}

export async function teardown(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const cleanup of cleanups.splice(0)) await cleanup().catch((error: unknown) => console.error(`clean-up: ${(error as Error).message}`));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void teardown().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function machine(): string {
  return `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
