// Smoke test of the PUBLISHED @lambdaline/speed-layer, as ESM. tools/pack-check runs it with
// cwd = a fresh project outside the repo where only the packed tarballs are installed.
// The checks are in checks.cjs, shared with smoke.cjs; exits 1 on any mismatch.
import * as core from '@lambdaline/core';
import * as speedLayer from '@lambdaline/speed-layer';
import { run } from './checks.cjs';

await run(speedLayer, core, { format: 'ESM', resolved: new URL(import.meta.resolve('@lambdaline/speed-layer')).pathname });
