// CommonJS smoke test of the packed @lambdaline/generators, run by tools/pack-check in a
// fresh project outside the repo. Exits 1 on any failure.
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ConfigError, sensorEventSchema, validateEvent } = require('@lambdaline/core');
const { generateEvents, planEvents, writeHistory } = require('@lambdaline/generators');

function check(condition, what) {
  if (!condition) {
    console.error(`smoke.cjs: FAILED: ${what}`);
    process.exit(1);
  }
}

async function main() {
  const a = [...generateEvents({ seed: 'cjs', count: 1000, sensors: 10 })];
  const b = [...generateEvents({ seed: 'cjs', count: 1000, sensors: 10 })];
  check(JSON.stringify(a) === JSON.stringify(b), 'same seed gives the same events');
  check(a.every((e) => validateEvent(sensorEventSchema, e).ok), 'every event valid per core');
  check(a.every((e) => /^sensor_([1-9]|10)$/.test(e.sensor_id)), 'sensors within 1..10');
  check(planEvents({ days: 3, eventsPerDay: 100 }).total === 300, 'planEvents');

  let error;
  try {
    generateEvents({ sensors: 0 });
  } catch (e) {
    error = e;
  }
  // The same ConfigError class as core's CJS build: the packages share one core.
  check(error instanceof ConfigError && error.field === 'sensors', 'bad option -> ConfigError naming it');

  const dir = mkdtempSync(join(tmpdir(), 'lambdaline-generators-smoke-'));
  try {
    const result = await writeHistory({ dir, count: 500, timestamp: 'string' });
    check(result.files.length === 1 && existsSync(join(dir, 'day=2024-01-01', 'part-0.parquet')), 'history file written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('smoke.cjs: ok');
}

main().catch((error) => {
  console.error('smoke.cjs: FAILED:', error);
  process.exit(1);
});
