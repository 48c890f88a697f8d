import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanEnv, entryFiles } from '../pack-check/pack-check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'pack-check', 'pack-check.mjs');
const fixture = (name: string) => path.join(here, 'fixtures', 'pack', name);

function packCheck(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const tempsOf = (slug: string) => fs.readdirSync(os.tmpdir()).filter((d) => d.includes(slug));

describe('pack-check on fixture packages', () => {
  it('passes a correct dual ESM/CJS package: pack, publint, attw, install outside the repo, both smokes', () => {
    const { status, output } = packCheck(fixture('ok'));
    expect(output).toContain('3/7 publint (--strict): ok');
    expect(output).toContain('4/7 are-the-types-wrong (profile node16: ESM + CJS): ok');
    expect(output).toContain('esm ok');
    expect(output).toContain('cjs ok');
    expect(output).toContain('all 7 checks passed');
    expect(status).toBe(0);
    expect(tempsOf('_lambdaline-fixture_ok-')).toEqual([]);
  });

  it('fails on wrong CJS types and a failing smoke program, naming each failed check', () => {
    const { status, output } = packCheck(fixture('broken'));
    expect(status).toBe(1);
    expect(output).toContain('publint (--strict): FAILED');
    expect(output).toContain('Masquerading as ESM');
    expect(output).toContain('are-the-types-wrong (profile node16: ESM + CJS): FAILED');
    expect(output).toContain('node pack-smoke/smoke.mjs (ESM import): ok');
    expect(output).toContain('smoke.cjs exited 1');
    expect(output).toContain('3 of 7 checks failed');
    expect(tempsOf('_lambdaline-fixture_broken-')).toEqual([]);
  });

  it('exits 2 on bad usage', () => {
    expect(packCheck().status).toBe(2);
  });
});

describe('pack-check helpers', () => {
  it('lists every file package.json points consumers at', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(fixture('ok'), 'package.json'), 'utf8'));
    expect(entryFiles(pkg).sort()).toEqual(
      ['lib/index.cjs', 'lib/index.d.cts', 'lib/index.d.ts', 'lib/index.js', 'package.json'].sort(),
    );
  });

  it('drops the npm_* variables of an enclosing npm run, so nested npm never targets the workspace', () => {
    const env = cleanEnv({ PATH: '/bin', npm_config_local_prefix: '/work/main', NODE_PATH: '/x', INIT_CWD: '/y' });
    expect(env).toEqual({ PATH: '/bin', npm_config_update_notifier: 'false' });
  });
});
