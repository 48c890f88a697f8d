// Smoke test of the PUBLISHED @lambdaline/core, as CommonJS (require). tools/pack-check/pack-check.mjs
// runs it with cwd = a fresh project outside the repo where only the packed tarball is installed.
// The checks are in checks.cjs, shared with smoke.mjs; exits 1 on any mismatch.
const core = require('@lambdaline/core');
const { run } = require('./checks.cjs');

run(core, { format: 'CJS', resolved: require.resolve('@lambdaline/core') }).catch((error) => {
  console.error(error);
  process.exit(1);
});
