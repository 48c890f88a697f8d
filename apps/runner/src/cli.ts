/**
 * The `lambdaline` executable. Everything is in `program.ts`; this only runs it
 * and exits with its code (see `exit-codes.ts`).
 */
import { main } from './program.js';

const code = await main(process.argv);
// Let stdout/stderr drain, then exit even if a library left a handle open.
process.exitCode = code;
setImmediate(() => process.exit(code));
