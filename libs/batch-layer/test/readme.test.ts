/**
 * Runs the example that opens README.md against this package's source and
 * checks that it prints what the README says it prints.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.ts';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

it('the README example runs and prints what it says', async () => {
  const output = await runReadmeExample({ packageRoot, packageName: '@lambdaline/batch-layer' });
  expect(output).toContain("3 1 { bad_timestamp: 1 }");
  expect(output).toContain('1 1714638600000');
  expect(output).toMatch(/window_start: '2024-05-01T00:00:00.000Z',\s+category: 'A',\s+avg_value1: 4,\s+avg_value2: 6,\s+record_count: 2/);
  expect(output).toMatch(/window_start: '2024-05-02T00:00:00.000Z',\s+category: 'B',\s+avg_value1: 1,\s+avg_value2: 9,\s+record_count: 1/);
  expect(output).toContain("code: 'bad_timestamp'");
}, 60_000);
