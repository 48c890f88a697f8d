/**
 * The randomness behind every generator: a counter-based hash, not a stateful
 * PRNG. Event `i` of seed `s` is a pure function of `(s, i)`, which is what lets
 *   - the Parquet writer compute the very same rows inside DuckDB (SQL below)
 *     instead of pushing every value through the Node bindings (3-4x faster),
 *   - any slice of a run be generated on its own (day by day, file by file),
 *   - the result be identical on every machine: only 32-bit integer operations,
 *     never `Math.random`, never transcendental functions.
 *
 * The mixer is MurmurHash3's 32-bit finaliser (`fmix32`), fed with a Weyl
 * sequence (`i * golden ratio + seed key`). Each JS function here has an SQL twin
 * right next to it; tests read the Parquet rows back and compare them with the
 * JS generator, so the two cannot drift apart silently.
 */
import { assertParam } from '@lambdaline/core';

export const TWO_POW_32 = 4_294_967_296;

const GOLDEN = 0x9e3779b1; // 2654435761
const FMIX_1 = 0x85ebca6b; // 2246822507
const FMIX_2 = 0xc2b2ae35; // 3266489909

/** MurmurHash3 fmix32: a bijection on uint32 with full avalanche. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, FMIX_1);
  h ^= h >>> 13;
  h = Math.imul(h, FMIX_2);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The per-event root hash: Weyl step then mix. `index` < 2^32. */
export function indexHash(index: number, seedKey: number): number {
  return mix32((Math.imul(index, GOLDEN) + seedKey) >>> 0);
}

/** An independent hash stream for one field of an event. */
export function fieldHash(root: number, salt: number): number {
  return mix32((root ^ salt) >>> 0);
}

/**
 * A uniform integer in `[0, n)` from a uint32 hash, using the high bits
 * (multiply-shift). Exact in doubles while `n < 2^21`.
 */
export function scaleTo(hash: number, n: number): number {
  return Math.floor((hash * n) / TWO_POW_32);
}

/** True with probability `share` (0..1), decided by a uint32 hash. */
export function chance(hash: number, share: number): boolean {
  return hash < share * TWO_POW_32;
}

/** Salts of the independent per-field streams (arbitrary odd constants). */
export const SALT = {
  category: 0x68e31da4,
  value1: 0xb5297a4d,
  value2: 0x1b56c4e9,
  status: 0x7fb5d329,
  time: 0x3c6ef372,
  sensorBase: 0x5bd1e995,
  malformed: 0xa54ff53a,
  malformedKind: 0x510e527f,
  malformedVariant: 0x9b05688c,
  late: 0x1f83d9ab,
  jitter: 0x5be0cd19,
} as const;

/**
 * A seed as the 32-bit key everything else is derived from. Numbers must be
 * integers in 0..2^32-1 (so `seed: 7` means the same everywhere); strings are
 * hashed with FNV-1a over their UTF-16 code units.
 */
export function normalizeSeed(seed: number | string | undefined, field = 'seed'): number {
  if (seed === undefined) return 0;
  if (typeof seed === 'string') {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  }
  assertParam(typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, field, `must be an integer in 0..4294967295 or a string, got ${String(seed)}`);
  return seed;
}

/** The key mixed into every index hash; distinct from the raw seed so seed 0 is not special. */
export function seedKeyOf(seed32: number): number {
  return mix32((seed32 ^ 0x6a09e667) >>> 0);
}

/** `seed32` as the 8 hex digits used in event ids. */
export function seedHex(seed32: number): string {
  return seed32.toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------
// SQL twins (DuckDB). Values are UBIGINT holding a uint32, so every product of
// two uint32 fits in 64 bits and `& 0xffffffff` reproduces JS's wrap-around.
// DuckDB macros would inline `x` once per use and blow up exponentially, so
// each fmix step is a separate projection: `mixStagesSql` returns the steps as
// a list of `SELECT * REPLACE (...)` expressions to apply in sequence.
// ---------------------------------------------------------------------------

const M32 = '4294967295::UBIGINT';
const u = (n: number) => `${n >>> 0}::UBIGINT`;

/** The five fmix32 steps for column `c`, each to be applied as its own projection. */
export function mixStepsSql(c: string): string[] {
  return [
    `xor(${c}, ${c} >> 16)`,
    `(${c} * ${u(FMIX_1)}) & ${M32}`,
    `xor(${c}, ${c} >> 13)`,
    `(${c} * ${u(FMIX_2)}) & ${M32}`,
    `xor(${c}, ${c} >> 16)`,
  ];
}

/** The un-mixed Weyl input of `indexHash` for a BIGINT index column `i`. */
export function weylSql(i: string, seedKey: number): string {
  return `((${i}::UBIGINT & ${M32}) * ${u(GOLDEN)} + ${u(seedKey)}) & ${M32}`;
}

/** The un-mixed input of `fieldHash` for a UBIGINT root column. */
export function saltSql(root: string, salt: number): string {
  return `xor(${root}, ${u(salt)})`;
}
