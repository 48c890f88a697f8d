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
  const output = await runReadmeExample({ packageRoot, packageName: '@lambdaline/core' });
  expect(output).toContain("code: 'not_allowed'");
  expect(output).toContain("reason: 'category must be one of A, B, C, D, got \"Z\"'");
  expect(output).toMatch(/avg_value1: 6,\s+min_value1: 3,\s+max_value1: 10,\s+message_count: 3/);
  expect(output).toContain('events:0@42');
});
