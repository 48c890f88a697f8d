/**
 * Runs the example that opens README.md against this package's source and the
 * real broker (its own topic, its own history folder), and checks what it says.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.ts';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = `readme-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
let historyDir = '';

afterAll(async () => {
  if (historyDir) await rm(historyDir, { recursive: true, force: true });
  const admin = new Kafka({ brokers, clientId: 'readme-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

it('the README example writes the history it says and produces 2,000 tagged messages', async () => {
  historyDir = await mkdtemp(join(tmpdir(), 'lambdaline-readme-history-'));
  const output = await runReadmeExample({
    packageRoot,
    packageName: '@lambdaline/generators',
    transform: (code) => code.replace("'./history'", JSON.stringify(historyDir)).replace("process.env.TOPIC ?? 'sensor-events'", JSON.stringify(topic)),
  });
  expect(output).toContain(`3000000 events in 30 files under ${historyDir}`);
  expect(output).toMatch(/produced 2000:/);
  const days = (await readdir(historyDir)).sort();
  expect(days[0]).toBe('day=2024-05-01');
  expect(days).toHaveLength(30);
}, 180_000);
