// CommonJS smoke test of the packed @lambdaline/generators, run by tools/pack-check in a
// fresh project outside the repo. The checks are in checks.cjs, shared with smoke.mjs.
// Exits 1 on any failure.
const core = require('@lambdaline/core');
const generators = require('@lambdaline/generators');
const { run } = require('./checks.cjs');

run(generators, core, { format: 'CJS', resolved: require.resolve('@lambdaline/generators') }).catch((error) => {
  console.error('smoke.cjs: FAILED:', error);
  process.exit(1);
});
