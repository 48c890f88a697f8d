// Runs against the packed @lambdaline/serving-layer installed in a fresh project (tools/pack-check),
// as ESM. The checks are in checks.cjs, shared with smoke.cjs.
import * as core from '@lambdaline/core';
import * as servingLayer from '@lambdaline/serving-layer';
import { run } from './checks.cjs';

await run(servingLayer, core, { format: 'ESM', resolved: new URL(import.meta.resolve('@lambdaline/serving-layer')).pathname });
