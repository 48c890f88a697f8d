// Smoke test of the PUBLISHED @lambdaline/speed-layer, as CommonJS (see smoke.mjs; the checks
// are in checks.cjs, shared with it).
const core = require('@lambdaline/core');
const speedLayer = require('@lambdaline/speed-layer');
const { run } = require('./checks.cjs');

run(speedLayer, core, { format: 'CJS', resolved: require.resolve('@lambdaline/speed-layer') }).catch((error) => {
  console.error(error);
  process.exit(1);
});
