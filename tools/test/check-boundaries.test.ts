import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, importsOf, packageNameOf } from '../check-boundaries.mjs';

type Violation = { file: string; line: number; rule: string; message: string };
const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.join(here, 'fixtures', 'boundaries', name);
const cli = path.join(here, '..', 'check-boundaries.mjs');

function violationsOf(name: string): Violation[] {
  return (checkBoundaries(fixture(name)) as { violations: Violation[] }).violations;
}

describe('check-boundaries on fixture trees', () => {
  it('passes a clean tree: core imports no lib, layers import core, tests/configs/apps are free', () => {
    const result = checkBoundaries(fixture('clean'));
    expect(result.violations).toEqual([]);
    expect(result.libs).toBe(3);
    expect(result.files).toBeGreaterThan(5);
  });

  it('fails when a layer imports a sibling layer', () => {
    expect(violationsOf('layer-import')).toEqual([
      expect.objectContaining({ file: 'libs/speed-layer/src/index.ts', line: 3, rule: 'layer-import' }),
    ]);
    expect(violationsOf('layer-import')[0]!.message).toContain("'@lambdaline/batch-layer'");
  });

  it('fails when core imports any other lambdaline package', () => {
    const [v, ...rest] = violationsOf('core-imports-layer');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ file: 'libs/core/src/sample.ts', line: 1, rule: 'layer-import' });
    expect(v!.message).toContain('@lambdaline/generators');
  });

  it('fails when a relative import escapes its package', () => {
    const [v, ...rest] = violationsOf('relative-escape');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ file: 'libs/serving-layer/src/merge.ts', line: 3, rule: 'relative-escape' });
    expect(v!.message).toContain("'../../speed-layer/src/fold.js'");
    expect(v!.message).toContain('libs/speed-layer');
  });

  it('fails on a bare import in src/ that package.json does not declare (tests excluded)', () => {
    const [v, ...rest] = violationsOf('undeclared-dependency');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ file: 'libs/batch-layer/src/archive.ts', line: 1, rule: 'undeclared-dependency' });
    expect(v!.message).toContain("'rxjs'");
  });

  it('fails when a lib lists another layer as a dependency', () => {
    const [v, ...rest] = violationsOf('layer-dependency');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ file: 'libs/serving-layer/package.json', rule: 'layer-dependency' });
    expect(v!.message).toContain('@lambdaline/speed-layer');
  });
});

describe('sample-data tools are not layers', () => {
  it('lets a layer use @lambdaline/generators from benchmarks and tests (devDependency), never from shipped code', () => {
    const [v, ...rest] = violationsOf('dev-tools');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ file: 'libs/batch-layer/src/index.ts', line: 1, rule: 'layer-import' });
    expect(v!.message).toContain('from shipped code');
  });
});

describe('check-boundaries CLI', () => {
  it('exits 1 and names the file, line and import', () => {
    const run = spawnSync(process.execPath, [cli, '--root', fixture('layer-import')], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("libs/speed-layer/src/index.ts:3: [layer-import] imports '@lambdaline/batch-layer'");
  });

  it('exits 0 on a clean tree', () => {
    const run = spawnSync(process.execPath, [cli, '--root', fixture('clean')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('no layer boundary violations');
  });
});

describe('import extraction', () => {
  it('finds static, type-only, export-from, multi-line, dynamic and require imports, not comments or strings', () => {
    const source = [
      "import a from 'x';",
      "import type { T } from 'types-only';",
      "export * from './y.js';",
      'export { z } from "zz/sub";',
      "const m = await import('dyn');",
      "const r = require('req');",
      'import {',
      '  a1,',
      "} from 'multi';",
      "// import 'commented';",
      'const s = "import x from \'in-string\'";',
    ].join('\n');
    expect(importsOf(source)).toEqual([
      { specifier: 'x', line: 1 },
      { specifier: 'types-only', line: 2 },
      { specifier: './y.js', line: 3 },
      { specifier: 'zz/sub', line: 4 },
      { specifier: 'dyn', line: 5 },
      { specifier: 'req', line: 6 },
      { specifier: 'multi', line: 9 },
    ]);
  });

  it('reduces specifiers to package names', () => {
    expect(packageNameOf('@duckdb/node-api/sub/path')).toBe('@duckdb/node-api');
    expect(packageNameOf('rxjs/operators')).toBe('rxjs');
    expect(packageNameOf('kafkajs')).toBe('kafkajs');
  });
});
