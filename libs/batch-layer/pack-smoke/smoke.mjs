// Smoke test of the PUBLISHED @lambdaline/batch-layer, as ESM. tools/pack-check runs it with
// cwd = a fresh project outside the repo where only the packed tarballs are installed.
// The checks are in checks.cjs, shared with smoke.cjs; exits 1 on any mismatch.
import * as batchLayer from '@lambdaline/batch-layer';
import * as core from '@lambdaline/core';
import { run } from './checks.cjs';

await run(batchLayer, core, { format: 'ESM', resolved: new URL(import.meta.resolve('@lambdaline/batch-layer')).pathname });
