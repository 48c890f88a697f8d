// Smoke test of the PUBLISHED @lambdaline/batch-layer, as CommonJS (require). See smoke.mjs;
// the checks are in checks.cjs, shared with it.
const batchLayer = require('@lambdaline/batch-layer');
const core = require('@lambdaline/core');
const { run } = require('./checks.cjs');

run(batchLayer, core, { format: 'CJS', resolved: require.resolve('@lambdaline/batch-layer') }).catch((error) => {
  console.error(`@lambdaline/batch-layer CJS smoke FAILED\n${error?.stack ?? error}`);
  process.exit(1);
});
