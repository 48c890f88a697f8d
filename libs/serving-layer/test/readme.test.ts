/**
 * Runs the example that opens README.md (against this package's source, on a
 * free port) and checks what it prints.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

it('the README example runs and prints what it says', async () => {
  const output = await runReadmeExample({
    packageRoot: root,
    packageName: '@lambdaline/serving-layer',
    transform: (code) => code.replace('{ port: 8080 }', '{ port: 0 }').concat('\nawait server.close();\nserving.close();\n'),
  });
  expect(output).toContain("sensor_id: 'sensor_1'");
  expect(output).toMatch(/avg_value1: 20,\s+min_value1: 10,\s+max_value1: 30,\s+message_count: 2/);
  expect(output).toContain('1 live 2024-05-01T10:04:50.000Z');
  expect(output).toMatch(/changed: \[\s*\{[^}]*avg_value1: 30,[^}]*message_count: 3/);
  expect(output).toMatch(/dashboard http:\/\/127\.0\.0\.1:\d+\//);
});
