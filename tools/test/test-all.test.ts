import { describe, expect, it } from 'vitest';
import { failedNxTasks, tallyVitest } from '../test-all.mjs';

describe('test-all output parsing', () => {
  it('sums vitest summaries across Nx tasks, ANSI colours and prefixes included', () => {
    const output = [
      '@lambdaline/core:test: \x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m116 passed\x1b[39m\x1b[22m\x1b[90m (116)\x1b[39m',
      '      Tests  2 failed | 40 passed (42)',
      '      Tests  1 skipped | 3 passed (4)',
      ' Test Files  8 passed (8)',
    ].join('\n');
    expect(tallyVitest(output)).toEqual({ passed: 159, failed: 2, skipped: 1, runs: 3 });
  });

  it("lists Nx's failed tasks", () => {
    const output = [
      ' NX   Ran targets build, test for 3 projects (6 tasks)',
      '',
      '   ✖  2/6 failed',
      '   ✔  4/6 succeeded [1 read from cache]',
      '',
      '   Failed tasks:',
      '',
      '   - @lambdaline/speed-layer:test',
      '   - @lambdaline/batch-layer:typecheck',
      '',
      'Hint: ...',
    ].join('\n');
    expect(failedNxTasks(output)).toEqual(['@lambdaline/speed-layer:test', '@lambdaline/batch-layer:typecheck']);
    expect(failedNxTasks(' NX   Successfully ran targets build')).toEqual([]);
  });
});
