// Smoke test of the PUBLISHED @lambdaline/core, as ESM. tools/pack-check/pack-check.mjs runs it
// with cwd = a fresh project outside the repo where only the packed tarball is installed.
// The checks are in checks.cjs, shared with smoke.cjs; exits 1 on any mismatch.
import * as core from '@lambdaline/core';
import { run } from './checks.cjs';

await run(core, { format: 'ESM', resolved: new URL(import.meta.resolve('@lambdaline/core')).pathname });
