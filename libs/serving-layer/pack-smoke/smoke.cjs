// Runs against the packed @lambdaline/serving-layer installed in a fresh project (tools/pack-check),
// as CommonJS. The checks are in checks.cjs, shared with smoke.mjs.
const core = require('@lambdaline/core');
const servingLayer = require('@lambdaline/serving-layer');
const { run } = require('./checks.cjs');

run(servingLayer, core, { format: 'CJS', resolved: require.resolve('@lambdaline/serving-layer') }).catch((error) => {
  console.error(`smoke.cjs: ${error && error.stack ? error.stack : String(error)}`);
  process.exit(1);
});
