/**
 * Runs the example that opens README.md (against this package's source, on a
 * free port) and checks what it prints.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

it('the README example runs and prints what it says', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
  const runnable = code
    .replace("from '@lambdaline/serving-layer'", `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`)
    .replace('{ port: 8080 }', '{ port: 0 }')
    .concat('\nawait server.close();\nserving.close();\n');
  const dir = join(root, 'test-output');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'readme-example.mts');
  await writeFile(file, runnable);
  const output = await new Promise<string>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}: ${err}`))));
  });
  expect(output).toContain("sensor_id: 'sensor_1'");
  expect(output).toMatch(/avg_value1: 20,\s+min_value1: 10,\s+max_value1: 30,\s+message_count: 2/);
  expect(output).toContain('1 live 2024-05-01T10:04:50.000Z');
  expect(output).toMatch(/changed: \[\s*\{[^}]*avg_value1: 30,[^}]*message_count: 3/);
  expect(output).toMatch(/dashboard http:\/\/127\.0\.0\.1:\d+\//);
});
