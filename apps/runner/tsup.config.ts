import { defineConfig } from 'tsup';

// The CLI is an app, not a library: one ESM bundle of its own code, every
// dependency (the layers included) resolved from node_modules at run time.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
