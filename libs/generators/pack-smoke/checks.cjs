// The checks of generators' pack smoke, shared by smoke.mjs (ESM, `import`) and smoke.cjs (CJS,
// `require`): each program loads the installed packages its own way and hands them to `run`, so
// the two differ only in how they load them. tools/pack-check copies this folder into a fresh
// project outside the repo and runs both there. This file never loads a @lambdaline package itself.
'use strict';
const { existsSync, mkdtempSync, rmSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

/**
 * Runs every check; exits 1 at the first failure.
 * @param {typeof import('@lambdaline/generators')} generators
 * @param {typeof import('@lambdaline/core')} core the core the program loaded alongside (same format)
 * @param {{ format: 'ESM' | 'CJS', resolved: string }} loaded the module format and the file
 *   `@lambdaline/generators` resolved to (import.meta.resolve or require.resolve)
 */
async function run(generators, core, { format, resolved }) {
  const { ConfigError, parseEvent, sensorEventSchema, validateEvent } = core;
  const { generateEvents, generateMessages, liveMessages, planEvents, writeHistory } = generators;
  const program = format === 'ESM' ? 'smoke.mjs' : 'smoke.cjs';
  const check = (condition, what) => {
    if (!condition) {
      console.error(`${program}: FAILED: ${what}`);
      process.exit(1);
    }
  };

  const installed = path.join(process.cwd(), 'node_modules', '@lambdaline', 'generators') + path.sep;
  check(resolved.startsWith(installed), `resolved to ${resolved}, not the installed package under ${installed}`);
  check(resolved.endsWith(format === 'ESM' ? 'index.js' : 'index.cjs'), `${format} entry: ${resolved}`);

  const a = [...generateEvents({ seed: 42, count: 1000 })];
  const b = [...generateEvents({ seed: 42, count: 1000 })];
  check(a.length === 1000, '1000 events generated');
  check(JSON.stringify(a) === JSON.stringify(b), 'same seed gives the same events');
  check(a.every((e) => validateEvent(sensorEventSchema, e).ok), 'every event valid per core');
  check(new Set(a.map((e) => e.event_id)).size === 1000, 'event ids unique');

  const c = [...generateEvents({ seed: 'word', count: 1000, sensors: 10 })];
  const d = [...generateEvents({ seed: 'word', count: 1000, sensors: 10 })];
  check(JSON.stringify(c) === JSON.stringify(d), 'same word seed gives the same events');
  check(c.every((e) => /^sensor_([1-9]|10)$/.test(e.sensor_id)), 'sensors within 1..10');
  check(planEvents({ days: 3, eventsPerDay: 100 }).total === 300, 'planEvents');

  let error;
  try {
    generateEvents({ sensors: 0 });
  } catch (e) {
    error = e;
  }
  // The same ConfigError class as the core the program loaded: the packages share one core.
  check(error instanceof ConfigError && error.field === 'sensors', 'bad option -> ConfigError naming it');

  let malformed = 0;
  for (const m of generateMessages({ seed: 1, count: 1000, malformedShare: 0.2 })) {
    const r = parseEvent(sensorEventSchema, m.raw);
    check((r.ok ? 'valid' : r.rejection.code) === m.expected, `message ${m.index} rejected as tagged (${m.expected})`);
    if (m.expected !== 'valid') malformed++;
  }
  check(malformed > 100 && malformed < 300, `about 20% malformed (${malformed})`);

  const live = await new Promise((resolve, reject) => {
    const got = [];
    liveMessages({ rate: Infinity, count: 5 }).subscribe({ next: (m) => got.push(m), error: reject, complete: () => resolve(got) });
  });
  check(live.length === 5, 'live stream emits its count');

  const dir = mkdtempSync(path.join(tmpdir(), 'lambdaline-generators-smoke-'));
  try {
    const result = await writeHistory({ dir: path.join(dir, 'a'), seed: 3, from: '2024-05-01', days: 2, count: 2000 });
    check(result.total === 2000 && result.files.length === 2, 'history written: 2 days, 2000 events');
    for (const f of result.files) check(existsSync(f.path) && statSync(f.path).size > 0, `${f.path} exists`);
    check(existsSync(path.join(dir, 'a', 'day=2024-05-01', 'part-0.parquet')), 'day=YYYY-MM-DD/part-0.parquet layout');
    const text = await writeHistory({ dir: path.join(dir, 'b'), count: 500, timestamp: 'string' });
    check(text.files.length === 1 && existsSync(path.join(dir, 'b', 'day=2024-01-01', 'part-0.parquet')), 'history with string timestamps written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${program}: ok`);
}

module.exports = { run };
