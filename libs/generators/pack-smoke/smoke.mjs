// ESM smoke test of the packed @lambdaline/generators, run by tools/pack-check in a
// fresh project outside the repo. Exits 1 on any failure.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvent, sensorEventSchema, validateEvent } from '@lambdaline/core';
import { generateEvents, generateMessages, liveMessages, writeHistory } from '@lambdaline/generators';

function check(condition, what) {
  if (!condition) {
    console.error(`smoke.mjs: FAILED: ${what}`);
    process.exit(1);
  }
}

const a = [...generateEvents({ seed: 42, count: 1000 })];
const b = [...generateEvents({ seed: 42, count: 1000 })];
check(a.length === 1000, '1000 events generated');
check(JSON.stringify(a) === JSON.stringify(b), 'same seed gives the same events');
check(a.every((e) => validateEvent(sensorEventSchema, e).ok), 'every event valid per core');
check(new Set(a.map((e) => e.event_id)).size === 1000, 'event ids unique');

let malformed = 0;
for (const m of generateMessages({ seed: 1, count: 1000, malformedShare: 0.2 })) {
  const r = parseEvent(sensorEventSchema, m.raw);
  check((r.ok ? 'valid' : r.rejection.code) === m.expected, `message ${m.index} rejected as tagged (${m.expected})`);
  if (m.expected !== 'valid') malformed++;
}
check(malformed > 100 && malformed < 300, `about 20% malformed (${malformed})`);

const live = await new Promise((resolve, reject) => {
  const got = [];
  liveMessages({ rate: Infinity, count: 5 }).subscribe({ next: (m) => got.push(m), error: reject, complete: () => resolve(got) });
});
check(live.length === 5, 'live stream emits its count');

const dir = mkdtempSync(join(tmpdir(), 'lambdaline-generators-smoke-'));
try {
  const result = await writeHistory({ dir, seed: 3, from: '2024-05-01', days: 2, count: 2000 });
  check(result.total === 2000 && result.files.length === 2, 'history written: 2 days, 2000 events');
  for (const f of result.files) check(existsSync(f.path) && statSync(f.path).size > 0, `${f.path} exists`);
  check(existsSync(join(dir, 'day=2024-05-01', 'part-0.parquet')), 'day=YYYY-MM-DD/part-0.parquet layout');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('smoke.mjs: ok');
