/**
 * One vitest setup for every package, so "what is a unit test and what talks to Kafka"
 * is decided in one place:
 *   - `unit`    : `src/**\/*.test.ts` and `test/**\/*.test.ts`, pure and fast, cached by Nx.
 *   - `kafka`   : `**\/*.kafka.test.ts`, real broker (KAFKA_BROKERS), never cached.
 *   - `browser` : `**\/*.browser.test.ts`, real headless Chromium, never cached.
 * Run one with `vitest run --project <name>`.
 */
import { defineConfig } from 'vitest/config';

const integration = ['**/*.kafka.test.ts', '**/*.browser.test.ts'];

export function lambdalineVitestConfig(options: { unitTimeoutMs?: number; kafkaTimeoutMs?: number } = {}) {
  return defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
            exclude: ['**/node_modules/**', '**/dist/**', ...integration],
            testTimeout: options.unitTimeoutMs ?? 30_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'kafka',
            include: ['src/**/*.kafka.test.ts', 'test/**/*.kafka.test.ts'],
            testTimeout: options.kafkaTimeoutMs ?? 120_000,
            hookTimeout: options.kafkaTimeoutMs ?? 120_000,
            // One broker on a 2-core machine: run Kafka test files one after another.
            fileParallelism: false,
          },
        },
        {
          extends: true,
          test: {
            name: 'browser',
            include: ['src/**/*.browser.test.ts', 'test/**/*.browser.test.ts'],
            testTimeout: 120_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
