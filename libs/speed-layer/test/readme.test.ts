/** The README's in-process example runs as written (against this package's source). */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';

it('the README in-process example runs and prints what it says', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1]!.replace("'@lambdaline/speed-layer'", "'../src/index.js'");
  const file = fileURLToPath(new URL(`./readme-example.${process.pid}.tmp.ts`, import.meta.url));
  writeFileSync(file, code);
  const logs: unknown[][] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args));
  try {
    await import(file);
  } finally {
    spy.mockRestore();
    rmSync(file, { force: true });
  }
  expect(logs.some(([l]) => l === 'partition 1 covers [0, 2)')).toBe(true);
  expect(logs).toContainEqual([
    [{ window_start: '2024-05-01T12:00:00.000Z', sensor_id: 'sensor_1', avg_value1: 25.5, min_value1: 20.5, max_value1: 30.5, message_count: 2 }],
  ]);
  expect(logs).toContainEqual([{ malformed_json: 1 }]);
  expect(logs.at(-1)).toEqual([1]);
});
