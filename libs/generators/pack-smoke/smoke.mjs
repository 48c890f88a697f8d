// ESM smoke test of the packed @lambdaline/generators, run by tools/pack-check in a
// fresh project outside the repo. The checks are in checks.cjs, shared with smoke.cjs.
// Exits 1 on any failure.
import * as core from '@lambdaline/core';
import * as generators from '@lambdaline/generators';
import { run } from './checks.cjs';

await run(generators, core, { format: 'ESM', resolved: new URL(import.meta.resolve('@lambdaline/generators')).pathname });
