#!/usr/bin/env node
/**
 * Layer boundaries of the lambdaline workspace: layers never import each other, they share
 * only @lambdaline/core. Checked on every package under libs/:
 *
 *   layer-import          a lib imports another @lambdaline package. core imports none;
 *                         every other lib (generators, batch-layer, speed-layer,
 *                         serving-layer, ...) imports only @lambdaline/core.
 *   layer-dependency      a lib's package.json lists such a package in dependencies,
 *                         peerDependencies, optionalDependencies or devDependencies.
 *   relative-escape       a relative import leaves the lib's folder (reaching into another
 *                         package or the repo). Only code that is never shipped (anything
 *                         outside src/, such as configs and benchmarks, and tests) may import
 *                         workspace-root files outside libs/ and apps/ (../../vitest.shared,
 *                         tools/testing/...).
 *   undeclared-dependency a bare import in the lib's src/ (tests excluded) whose package is not
 *                         in its dependencies/peerDependencies/optionalDependencies. Node
 *                         builtins (`node:*`, and unprefixed ones) are fine.
 *
 * Sample-data tools (@lambdaline/generators) are not layers: a lib may list them in
 * devDependencies and import them from tests and benchmarks (outside src/, or *.test.*),
 * never from shipped code.
 *
 * apps/ (the runner composes the layers) may import anything and is not checked.
 *
 *   node tools/check-boundaries.mjs [--root <repo root>]
 *
 * Exits 1 listing each violation as `file:line: [rule] message`, 0 when clean.
 */
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');

export const CORE = '@lambdaline/core';
/** Not layers: usable by tests and benchmarks of any lib but core, never by shipped code. */
export const DEV_TOOLS = new Set(['@lambdaline/generators']);
const SCOPE = '@lambdaline/';
const SOURCE_EXT = /\.(?:[cm]?[jt]sx?)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.turbo', '.nx', '.lambdaline', 'tmp', 'test-output']);
const RUNTIME_DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];
const ALL_DEP_FIELDS = [...RUNTIME_DEP_FIELDS, 'devDependencies'];
const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(packageNameOf(specifier));
}

function isTestFile(file) {
  return /\.test\.[cm]?[jt]sx?$/.test(file) || /\.spec\.[cm]?[jt]sx?$/.test(file);
}

/** The @lambdaline packages a lib may use: core uses none, every other lib only core. */
export function allowedLambdalineImports(packageName) {
  return packageName === CORE ? new Set() : new Set([CORE]);
}

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (SKIP_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
      walk(path.join(dir, entry.name), out);
    } else if (entry.isFile() && SOURCE_EXT.test(entry.name)) {
      out.push(path.join(dir, entry.name));
    }
  }
  return out;
}

/** Every module specifier a file imports, with its 1-based line: static, export-from, dynamic, require. */
export function importsOf(source) {
  const info = ts.preProcessFile(source, true, true);
  const lineStarts = [0];
  for (let i = 0; i < source.length; i += 1) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (pos) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  return info.importedFiles.map((ref) => ({ specifier: ref.fileName, line: lineOf(ref.pos) }));
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function isInside(child, parent) {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The libs of the workspace at `root`: every libs/<dir> with a package.json. */
function findLibs(root) {
  const libsDir = path.join(root, 'libs');
  if (!fs.existsSync(libsDir)) return [];
  return fs
    .readdirSync(libsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(libsDir, e.name, 'package.json')))
    .map((e) => {
      const dir = path.join(libsDir, e.name);
      return { dir, pkg: readJson(path.join(dir, 'package.json')) };
    })
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Which workspace package (libs/* or apps/*) holds `file`, for messages. */
function owningPackage(root, file) {
  const rel = path.relative(root, file).split(path.sep);
  if ((rel[0] === 'libs' || rel[0] === 'apps') && rel.length > 1) return `${rel[0]}/${rel[1]}`;
  return null;
}

/**
 * Checks the workspace at `root`.
 * @returns {{ violations: {file: string, line: number, rule: string, message: string}[], libs: number, files: number }}
 */
export function checkBoundaries(root) {
  root = path.resolve(root);
  const violations = [];
  const libs = findLibs(root);
  let files = 0;
  const rel = (file) => path.relative(root, file).split(path.sep).join('/');

  for (const { dir, pkg } of libs) {
    const name = pkg.name ?? `(unnamed package in ${rel(dir)})`;
    const allowed = allowedLambdalineImports(name);
    const describeAllowed = name === CORE ? `${CORE} imports no other lambdaline package` : `a lib may use only ${CORE}`;
    const pkgFile = path.join(dir, 'package.json');

    // package.json: no other layer among the dependencies.
    for (const field of ALL_DEP_FIELDS) {
      for (const dep of Object.keys(pkg[field] ?? {})) {
        if (dep.startsWith(SCOPE) && dep !== name && !allowed.has(dep)) {
          if (field === 'devDependencies' && DEV_TOOLS.has(dep) && name !== CORE) continue;
          violations.push({
            file: rel(pkgFile),
            line: 1,
            rule: 'layer-dependency',
            message: `${name} lists ${dep} in ${field}: layers never depend on each other (${describeAllowed})`,
          });
        }
      }
    }

    const declared = new Set(RUNTIME_DEP_FIELDS.flatMap((field) => Object.keys(pkg[field] ?? {})));
    const devDeclared = new Set(Object.keys(pkg.devDependencies ?? {}));
    const srcDir = path.join(dir, 'src');

    for (const file of walk(dir)) {
      files += 1;
      const source = fs.readFileSync(file, 'utf8');
      // Shipped code: in src/ and not a test. Everything else (tests, benchmarks, configs) is never published.
      const shipped = isInside(file, srcDir) && !isTestFile(file);
      for (const { specifier, line } of importsOf(source)) {
        const where = { file: rel(file), line };

        if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
          const target = path.resolve(path.dirname(file), specifier);
          if (isInside(target, dir)) continue;
          const targetPkg = owningPackage(root, target);
          // Configs and tests (never published) may use workspace-root helpers, e.g. ../../vitest.shared
          // or tools/testing; shipped code may not.
          if (!shipped && isInside(target, root) && targetPkg == null) continue;
          violations.push({
            ...where,
            rule: 'relative-escape',
            message: `imports '${specifier}', which leaves ${rel(dir)}${targetPkg ? ` into ${targetPkg}` : ''}: import other packages by name (only ${CORE}), never by relative path`,
          });
          continue;
        }
        if (specifier.startsWith('#') || isBuiltin(specifier)) continue;

        const dep = packageNameOf(specifier);
        if (DEV_TOOLS.has(dep) && name !== CORE && !shipped && devDeclared.has(dep)) continue;
        if (dep.startsWith(SCOPE) && dep !== name && !allowed.has(dep)) {
          violations.push({
            ...where,
            rule: 'layer-import',
            message: DEV_TOOLS.has(dep) && name !== CORE
              ? `imports '${specifier}' from ${shipped ? 'shipped code' : 'a test or benchmark without listing it in devDependencies'}: ${dep} is for tests and benchmarks only (devDependencies, outside src/ or in *.test.* files)`
              : `imports '${specifier}': layers never import each other (${describeAllowed}; only apps/runner composes layers)`,
          });
          continue;
        }
        if (shipped && dep !== name && !declared.has(dep)) {
          violations.push({
            ...where,
            rule: 'undeclared-dependency',
            message: `imports '${specifier}', but '${dep}' is not in ${rel(pkgFile)} dependencies or peerDependencies (it would be missing for users who install ${name})`,
          });
        }
      }
    }
  }
  return { violations, libs: libs.length, files };
}

export function formatViolation(v) {
  return `${v.file}:${v.line}: [${v.rule}] ${v.message}`;
}

function main(argv) {
  let root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--root' && argv[i + 1]) root = path.resolve(argv[++i]);
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write('Usage: node tools/check-boundaries.mjs [--root <repo root>]\n');
      return 0;
    } else {
      process.stderr.write(`check-boundaries: unknown argument ${argv[i]}\n`);
      return 2;
    }
  }
  const { violations, libs, files } = checkBoundaries(root);
  if (violations.length === 0) {
    process.stdout.write(`check-boundaries: ${libs} libs, ${files} files: no layer boundary violations\n`);
    return 0;
  }
  process.stderr.write(`check-boundaries: ${violations.length} violation(s) in ${root}:\n`);
  for (const v of violations) process.stderr.write(`  ${formatViolation(v)}\n`);
  process.stderr.write('Layers share only @lambdaline/core; see DEVELOPERS.md "Rules of the workspace".\n');
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
