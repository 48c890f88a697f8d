/**
 * docker-compose.yml and the Dockerfile, checked as far as a machine without a
 * Docker engine allows: `docker compose config` validates and resolves the
 * compose file (it needs the compose plugin, not the engine). Set COMPOSE_BIN
 * to a standalone Compose v2 binary to use that instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RUNNER_DIR } from './helpers/cli.js';

const ROOT = join(RUNNER_DIR, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

/** The compose command to use, or why there is none. */
function findCompose(): { command: string[] } | { reason: string } {
  const candidates: string[][] = [];
  if (process.env.COMPOSE_BIN) candidates.push([process.env.COMPOSE_BIN]);
  candidates.push(['docker', 'compose'], ['docker-compose']);
  const tried: string[] = [];
  for (const command of candidates) {
    const result = spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (result.status === 0 && /v?2\.\d+/.test(result.stdout)) return { command };
    tried.push(`${command.join(' ')}: ${result.error ? (result.error as NodeJS.ErrnoException).code : (result.stderr || result.stdout).trim().split('\n')[0] || `exit ${result.status}`}`);
  }
  return { reason: `no Docker Compose v2 here (${tried.join('; ')}); set COMPOSE_BIN to a compose binary to run this check` };
}

const compose = findCompose();

describe('docker-compose.yml', () => {
  it.skipIf('reason' in compose)(`docker compose config accepts it${'reason' in compose ? ` — skipped: ${compose.reason}` : ''}`, () => {
    const { command } = compose as { command: string[] };
    const out = execFileSync(command[0]!, [...command.slice(1), '-f', COMPOSE_FILE, 'config', '--format', 'json'], { encoding: 'utf8', cwd: ROOT });
    const config = JSON.parse(out) as { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }> }> };
    expect(Object.keys(config.services).sort()).toEqual(['history', 'kafka', 'lambdaline', 'stream']);
    expect(config.services.kafka!.image).toBe('apache/kafka:4.1.1');
    expect(config.services.lambdaline!.command).toContain('--brokers=kafka:9092');
    expect(config.services.lambdaline!.depends_on).toMatchObject({ kafka: { condition: 'service_healthy' }, history: { condition: 'service_completed_successfully' } });
  });

  it('runs Kafka in KRaft mode with listeners the runner can reach, and the runner against it', () => {
    // Checked on the file itself, so it runs everywhere.
    const file = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string | number>; command?: string[]; image?: string; build?: unknown; volumes?: string[] }>;
    };
    const kafka = file.services.kafka!.environment!;
    expect(kafka.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(kafka.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${kafka.KAFKA_NODE_ID}@kafka:9093`);
    expect(String(kafka.KAFKA_ADVERTISED_LISTENERS)).toContain('PLAINTEXT://kafka:9092');
    expect(String(kafka.CLUSTER_ID)).toMatch(/^[A-Za-z0-9_-]{22}$/); // a base64 UUID, as kafka-storage format requires
    for (const listener of String(kafka.KAFKA_LISTENERS).split(',')) {
      expect(String(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)).toContain(`${listener.split(':')[0]}:`);
    }
    const runner = file.services.lambdaline!;
    expect(runner.command).toEqual(expect.arrayContaining(['start', '--brokers=kafka:9092', '--host=0.0.0.0']));
    expect(runner.volumes).toContain('lambdaline-data:/data');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds on node:20-slim in two stages and runs `lambdaline start`', () => {
    expect(dockerfile.match(/^FROM node:20-slim AS \w+$/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/RUN npm ci /);
    expect(dockerfile).toMatch(/nx run runner:build/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/apps\/runner\/dist\/cli\.js"\]/);
    expect(dockerfile).toMatch(/CMD \["start", "--brokers", "kafka:9092"/);
  });

  it('copies the manifest of every workspace (npm ci needs them all)', () => {
    const workspaces = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces as string[];
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean }> };
    const dirs = Object.keys(lock.packages).filter((p) => p !== '' && !p.includes('node_modules') && workspaces.some((w) => new RegExp(`^${w.replace('*', '[^/]+')}$`).test(p)));
    expect(dirs.length).toBeGreaterThanOrEqual(7);
    for (const dir of dirs) {
      expect(dockerfile.match(new RegExp(`COPY ${dir}/package\\.json ${dir}/`, 'g')), dir).toHaveLength(2);
    }
  });
});
