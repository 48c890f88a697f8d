#!/usr/bin/env node
/**
 * Checks a lambdaline package as it will be published:
 *
 *   1. the build output its package.json points at exists;
 *   2. `npm pack` into a temp dir;
 *   3. publint on the tarball (errors and warnings fail);
 *   4. are-the-types-wrong on the tarball, profile node16 (ESM and CJS must resolve to the
 *      right types; node10 is ignored);
 *   5. a fresh project in os.tmpdir(), OUTSIDE the repo, installs the tarball (plus the
 *      tarballs of the @lambdaline packages it depends on, i.e. core, in the same npm
 *      command; third-party dependencies come from the registry);
 *   6. the package's own smoke programs `<pkg>/pack-smoke/smoke.mjs` (ESM) and
 *      `<pkg>/pack-smoke/smoke.cjs` (CJS) run there (the whole folder is copied in, with any
 *      module they share such as `checks.cjs`, so they resolve the installed package and never
 *      the workspace) and must exit 0.
 *
 *   node tools/pack-check/pack-check.mjs <package dir> [--keep]
 *
 * The package dir is resolved against the repo root (`libs/core`), as each lib's
 * `test:pack` script passes it. Temp dirs are always deleted (unless --keep). Exits 1 if any
 * step failed, 2 on usage errors.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCOPE = '@lambdaline/';
const SMOKES = ['smoke.mjs', 'smoke.cjs'];

const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

class StepError extends Error {}

/**
 * The environment for child npm/node processes: without the npm_* variables of an enclosing
 * `npm run` (npm_config_local_prefix would point a nested `npm install` at the workspace),
 * without NODE_PATH (the smoke must resolve only what was installed).
 * @param {Record<string, string | undefined>} env
 * @returns {Record<string, string | undefined>}
 */
export function cleanEnv(env = process.env) {
  /** @type {Record<string, string | undefined>} */
  const out = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE_PATH' || key === 'NODE_OPTIONS') continue;
    out[key] = value;
  }
  out.npm_config_update_notifier = 'false';
  return out;
}

/** Runs a command, streaming its output indented; resolves with { code, stdout }. */
function run(command, args, { cwd, env = cleanEnv(), timeoutMs = 10 * 60_000, capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const indent = (chunk) => chunk.toString().replace(/^(?=.)/gm, '      ');
    child.stdout.on('data', (chunk) => {
      if (capture) stdout += chunk;
      else process.stdout.write(indent(chunk));
    });
    child.stderr.on('data', (chunk) => process.stderr.write(indent(chunk)));
    const timer = setTimeout(() => {
      process.stderr.write(`      (timed out after ${seconds(timeoutMs)}, killing ${command})\n`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, error });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout });
    });
  });
}

function binOf(packageName, binName) {
  const pkgJsonPath = path.join(REPO_ROOT, 'node_modules', packageName, 'package.json');
  if (!fs.existsSync(pkgJsonPath)) {
    throw new StepError(`${packageName} is not installed at the repo root (run npm ci)`);
  }
  const pkg = JSON.parse(fs.readFileSync(pkgJsonPath, 'utf8'));
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[binName];
  if (!rel) throw new StepError(`${packageName} has no "${binName}" bin`);
  return path.join(path.dirname(pkgJsonPath), rel);
}

/** Every file a package.json points consumers at (main, module, types, exports targets). */
export function entryFiles(pkg) {
  const files = new Set();
  for (const field of ['main', 'module', 'types', 'typings']) if (typeof pkg[field] === 'string') files.add(pkg[field]);
  const visit = (node) => {
    if (typeof node === 'string') {
      if (node.startsWith('./') && !node.includes('*')) files.add(node);
    } else if (node && typeof node === 'object') {
      for (const value of Object.values(node)) visit(value);
    }
  };
  visit(pkg.exports);
  return [...files].map((f) => path.normalize(f));
}

/** The workspace packages by name (libs/* and apps/*). */
function workspacePackages() {
  const byName = new Map();
  for (const group of ['libs', 'apps']) {
    const dir = path.join(REPO_ROOT, group);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const pkgFile = path.join(dir, entry.name, 'package.json');
      if (!entry.isDirectory() || !fs.existsSync(pkgFile)) continue;
      const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
      byName.set(pkg.name, { dir: path.join(dir, entry.name), pkg });
    }
  }
  return byName;
}

/** The @lambdaline packages `pkg` needs installed with it, transitively (in practice: core). */
function lambdalineDeps(pkg, workspace, seen = new Set()) {
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(pkg[field] ?? {})) {
      if (!name.startsWith(SCOPE) || seen.has(name)) continue;
      const dep = workspace.get(name);
      if (!dep) throw new StepError(`${pkg.name} depends on ${name}, which is not a workspace package`);
      seen.add(name);
      lambdalineDeps(dep.pkg, workspace, seen);
    }
  }
  return [...seen].map((name) => workspace.get(name));
}

function checkBuilt(dir, pkg) {
  const missing = entryFiles(pkg).filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new StepError(
      `${pkg.name}: build output missing (${missing.join(', ')}); build first: npx nx run ${pkg.name}:build`,
    );
  }
}

async function npmPack(dir, pkg, destination) {
  const result = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: dir, capture: true });
  if (result.code !== 0) throw new StepError(`npm pack of ${pkg.name} failed (exit ${result.code})`);
  let info;
  try {
    const json = JSON.parse(result.stdout.slice(result.stdout.indexOf('[')));
    info = json[0];
  } catch {
    throw new StepError(`npm pack of ${pkg.name} printed no JSON:\n${result.stdout}`);
  }
  const tarball = path.join(destination, info.filename);
  if (!fs.existsSync(tarball)) throw new StepError(`npm pack reported ${info.filename} but it is not in ${destination}`);
  return { tarball, info };
}

export async function packCheck(target, { keep = false } = {}) {
  const dir = path.resolve(REPO_ROOT, target);
  const pkgFile = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgFile)) throw new StepError(`no package.json in ${dir}`);
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  const label = `[pack-check ${pkg.name}]`;
  const slug = String(pkg.name).replace(/^@lambdaline\//, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  const results = [];
  const temps = [];
  const mkTemp = (prefix) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  const cleanup = () => {
    for (const d of temps.splice(0)) {
      if (keep) console.log(`${label} kept ${d}`);
      else fs.rmSync(d, { recursive: true, force: true });
    }
  };
  const onSignal = (signal) => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let stepNo = 0;
  const TOTAL = 7;
  const step = async (name, fn, { skipIf } = {}) => {
    stepNo += 1;
    const title = `${label} ${stepNo}/${TOTAL} ${name}`;
    if (skipIf) {
      console.log(`${title}: SKIPPED (${skipIf})`);
      results.push({ name, ok: false, skipped: true });
      return undefined;
    }
    console.log(`${title} ...`);
    const begin = Date.now();
    try {
      const value = await fn();
      console.log(`${title}: ok (${seconds(Date.now() - begin)})`);
      results.push({ name, ok: true });
      return value;
    } catch (error) {
      const message = error instanceof StepError ? error.message : (error?.stack ?? String(error));
      console.error(`${title}: FAILED (${seconds(Date.now() - begin)})\n      ${message.replace(/\n/g, '\n      ')}`);
      results.push({ name, ok: false });
      return undefined;
    }
  };

  try {
    if (pkg.private) throw new StepError(`${pkg.name} is private: it is never published, nothing to check`);
    const workspace = workspacePackages();
    const deps = lambdalineDeps(pkg, workspace);
    const smokeDir = path.join(dir, 'pack-smoke');

    const built = await step('build output present', async () => {
      checkBuilt(dir, pkg);
      for (const dep of deps) checkBuilt(dep.dir, dep.pkg);
      return true;
    });

    const packDir = mkTemp(`lambdaline-pack-${slug}-`);
    const packed = await step(
      'npm pack',
      async () => {
        const own = await npmPack(dir, pkg, packDir);
        console.log(
          `      ${path.basename(own.tarball)}: ${own.info.entryCount ?? own.info.files?.length} files, ` +
            `${(own.info.size / 1024).toFixed(1)} kB packed, ${(own.info.unpackedSize / 1024).toFixed(1)} kB unpacked`,
        );
        for (const f of own.info.files ?? []) console.log(`        ${f.path}`);
        const depTarballs = [];
        for (const dep of deps) {
          const d = await npmPack(dep.dir, dep.pkg, packDir);
          console.log(`      + ${path.basename(d.tarball)} (dependency ${dep.pkg.name})`);
          depTarballs.push(d.tarball);
        }
        return { tarball: own.tarball, depTarballs };
      },
      { skipIf: built ? undefined : 'no build output' },
    );

    await step(
      'publint (--strict)',
      async () => {
        const r = await run(process.execPath, [binOf('publint', 'publint'), 'run', packed.tarball, '--strict'], { cwd: packDir });
        if (r.code !== 0) throw new StepError(`publint found problems (exit ${r.code})`);
      },
      { skipIf: packed ? undefined : 'nothing packed' },
    );

    await step(
      'are-the-types-wrong (profile node16: ESM + CJS)',
      async () => {
        const r = await run(
          process.execPath,
          [
            binOf('@arethetypeswrong/cli', 'attw'),
            packed.tarball,
            '--profile',
            'node16',
            '--format',
            'ascii',
            '--no-definitely-typed',
            '--no-emoji',
            '--no-color',
          ],
          { cwd: packDir },
        );
        if (r.code !== 0) throw new StepError(`are-the-types-wrong found problems (exit ${r.code})`);
      },
      { skipIf: packed ? undefined : 'nothing packed' },
    );

    const projectDir = mkTemp(`lambdaline-consumer-${slug}-`);
    const installed = await step(
      `install the tarball${deps.length ? 's' : ''} into a fresh project (${projectDir})`,
      async () => {
        fs.writeFileSync(
          path.join(projectDir, 'package.json'),
          `${JSON.stringify({ name: 'lambdaline-pack-smoke', version: '0.0.0', private: true, description: `pack check of ${pkg.name}` }, null, 2)}\n`,
        );
        const tarballs = [packed.tarball, ...packed.depTarballs];
        const r = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn', ...tarballs], {
          cwd: projectDir,
        });
        if (r.code !== 0) throw new StepError(`npm install of ${tarballs.map((t) => path.basename(t)).join(' ')} failed (exit ${r.code})`);
        const installedPkg = path.join(projectDir, 'node_modules', ...pkg.name.split('/'), 'package.json');
        if (!fs.existsSync(installedPkg)) throw new StepError(`${pkg.name} is not in ${projectDir}/node_modules after npm install`);
        if (fs.lstatSync(path.dirname(installedPkg)).isSymbolicLink()) {
          throw new StepError(`${pkg.name} was linked, not installed from the tarball`);
        }
        if (fs.existsSync(smokeDir)) fs.cpSync(smokeDir, path.join(projectDir, 'pack-smoke'), { recursive: true });
        return true;
      },
      { skipIf: packed ? undefined : 'nothing packed' },
    );

    for (const smoke of SMOKES) {
      await step(
        `node pack-smoke/${smoke} (${smoke.endsWith('.mjs') ? 'ESM import' : 'CJS require'})`,
        async () => {
          const file = path.join(projectDir, 'pack-smoke', smoke);
          if (!fs.existsSync(file)) {
            throw new StepError(
              `${path.relative(REPO_ROOT, path.join(smokeDir, smoke))} is missing: every lib ships pack-smoke/${SMOKES.join(' and pack-smoke/')}, ` +
                'programs that use the installed package for real and exit non-zero on a wrong result',
            );
          }
          const r = await run(process.execPath, [file], { cwd: projectDir, timeoutMs: 5 * 60_000 });
          if (r.code !== 0) throw new StepError(`${smoke} exited ${r.code}`);
        },
        { skipIf: installed ? undefined : 'not installed' },
      );
    }
  } catch (error) {
    const message = error instanceof StepError ? error.message : (error?.stack ?? String(error));
    console.error(`${label} FAILED: ${message}`);
    results.push({ name: 'setup', ok: false });
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const failed = results.filter((r) => !r.ok);
  const passed = results.length - failed.length;
  if (failed.length === 0) {
    console.log(`${label} all ${passed} checks passed`);
  } else {
    console.error(`${label} ${failed.length} of ${results.length} checks failed or were skipped: ${failed.map((r) => r.name).join('; ')}`);
  }
  return failed.length === 0;
}

async function main(argv) {
  const keep = argv.includes('--keep');
  const positional = argv.filter((a) => !a.startsWith('--'));
  if (positional.length !== 1 || argv.some((a) => a.startsWith('--') && a !== '--keep')) {
    console.error('Usage: node tools/pack-check/pack-check.mjs <package dir, e.g. libs/core> [--keep]');
    return 2;
  }
  return (await packCheck(positional[0], { keep })) ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error?.stack ?? String(error));
      process.exitCode = 1;
    },
  );
}
