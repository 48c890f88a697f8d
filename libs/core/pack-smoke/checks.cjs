// The checks of core's pack smoke, shared by smoke.mjs (ESM, `import`) and smoke.cjs (CJS,
// `require`): each program loads the installed package its own way and hands it to `run`, so the
// two differ only in how they load it. tools/pack-check copies this folder into a fresh project
// outside the repo and runs both there. This file never loads @lambdaline/core itself.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');

/**
 * Runs every check against `core` as the program loaded it; exits 1 if any failed.
 * @param {typeof import('@lambdaline/core')} core
 * @param {{ format: 'ESM' | 'CJS', resolved: string }} loaded the module format and the file
 *   `@lambdaline/core` resolved to (import.meta.resolve or require.resolve)
 */
async function run(core, { format, resolved }) {
  const {
    LambdalineError,
    ViewSpecError,
    checkFieldValue,
    compareHorizons,
    emptyHorizon,
    extendHorizon,
    finalizeRow,
    foldEvents,
    horizonKey,
    horizonsEqual,
    mergeHorizons,
    mergeViewRows,
    parseEvent,
    sensor5minView,
    sensorEventSchema,
    sortRows,
    validateEvent,
    validateViewSpec,
  } = core;
  const checks = [];
  const check = (name, fn) => checks.push([name, fn]);

  check('resolves the installed package, not the workspace', () => {
    const expected = path.join(process.cwd(), 'node_modules', '@lambdaline', 'core') + path.sep;
    assert.ok(resolved.startsWith(expected), `@lambdaline/core resolved to ${resolved}, expected under ${expected}`);
    const entry = format === 'ESM' ? 'dist/index.js' : 'dist/index.cjs';
    assert.ok(resolved.endsWith(path.normalize(entry)), `${format} entry should be ${entry}, got ${resolved}`);
  });

  check('validates a good default-domain event', () => {
    const raw = '{"event_id":"e1","ts":"2024-05-01T12:00:00Z","sensor_id":"sensor_1","category":"A","value1":3.5,"value2":5,"status":"OK"}';
    const result = parseEvent(sensorEventSchema, raw);
    assert.equal(result.ok, true, `expected a valid event, got ${JSON.stringify(result)}`);
    assert.equal(result.eventTime, Date.parse('2024-05-01T12:00:00Z'));
    assert.equal(result.event.sensor_id, 'sensor_1');
  });

  check('rejects bad default-domain events, naming the field', () => {
    const badCategory = parseEvent(sensorEventSchema, '{"event_id":"e1","ts":"2024-05-01T12:00:00Z","sensor_id":"sensor_1","category":"Z","value1":1,"value2":5,"status":"OK"}');
    assert.equal(badCategory.ok, false);
    assert.equal(badCategory.rejection.code, 'not_allowed');
    assert.equal(badCategory.rejection.field, 'category');
    const outOfRange = validateEvent(sensorEventSchema, { event_id: 'e2', ts: '2024-05-01T12:00:00Z', sensor_id: 'sensor_1', category: 'A', value1: 1, value2: 0, status: 'OK' });
    assert.equal(outOfRange.ok, false);
    assert.equal(outOfRange.rejection.field, 'value2');
    const malformed = parseEvent(sensorEventSchema, '{not json');
    assert.equal(malformed.ok, false);
    assert.equal(malformed.rejection.code, 'malformed_json');
  });

  check('checks one field value as the validator does', () => {
    assert.equal(checkFieldValue(sensorEventSchema, 'category', 'A'), null);
    const rejection = checkFieldValue(sensorEventSchema, 'category', 'Z');
    const inEvent = validateEvent(sensorEventSchema, { event_id: 'e3', ts: '2024-05-01T12:00:00Z', sensor_id: 'sensor_1', category: 'Z', value1: 1, value2: 5, status: 'OK' });
    assert.deepEqual(rejection, inEvent.rejection);
  });

  check('folds events into sensor_5min, and a split fold merges to the same rows', () => {
    const spec = validateViewSpec(sensor5minView, sensorEventSchema);
    const events = [
      ['2024-05-01T12:00:00Z', 'sensor_1', 3],
      ['2024-05-01T12:01:30Z', 'sensor_1', 5],
      ['2024-05-01T12:04:59Z', 'sensor_1', 10],
      ['2024-05-01T12:05:00Z', 'sensor_1', 1],
      ['2024-05-01T12:02:00Z', 'sensor_2', 7],
    ].map(([ts, sensor_id, value1], i) => {
      const result = validateEvent(sensorEventSchema, { event_id: `e${i}`, ts, sensor_id, category: 'B', value1, value2: 5, status: 'OK' });
      assert.equal(result.ok, true, JSON.stringify(result));
      return result.event;
    });
    const whole = sortRows(foldEvents(spec, events)).map((row) => finalizeRow(spec, row));
    assert.deepEqual(whole, [
      { window_start: '2024-05-01T12:00:00.000Z', sensor_id: 'sensor_1', avg_value1: 6, min_value1: 3, max_value1: 10, message_count: 3 },
      { window_start: '2024-05-01T12:00:00.000Z', sensor_id: 'sensor_2', avg_value1: 7, min_value1: 7, max_value1: 7, message_count: 1 },
      { window_start: '2024-05-01T12:05:00.000Z', sensor_id: 'sensor_1', avg_value1: 1, min_value1: 1, max_value1: 1, message_count: 1 },
    ]);
    const merged = sortRows(mergeViewRows(spec, foldEvents(spec, events.slice(0, 2)), foldEvents(spec, events.slice(2))));
    assert.deepEqual(merged.map((row) => finalizeRow(spec, row)), whole);
  });

  check('merges horizons', () => {
    const t1 = Date.parse('2024-05-01T12:02:00Z');
    const t2 = Date.parse('2024-05-01T12:03:00Z');
    const a = extendHorizon(emptyHorizon(), 'events', 0, '41', t1);
    const b = extendHorizon(extendHorizon(emptyHorizon(), 'events', 0, '9', t2), 'events', 1, '5', t1);
    const merged = mergeHorizons(a, b);
    assert.equal(horizonKey(merged), 'events:0@42,events:1@6');
    assert.equal(merged.partitions[0].maxEventTime, t2);
    assert.ok(horizonsEqual(merged, mergeHorizons(b, a)), 'mergeHorizons must be commutative');
    assert.equal(compareHorizons(merged, a), 'after');
    assert.equal(compareHorizons(a, b), 'concurrent');
  });

  check('throws typed errors naming the field', () => {
    assert.throws(
      () => validateViewSpec({ ...sensor5minView, window: '7m' }, sensorEventSchema),
      (error) => error instanceof ViewSpecError && error instanceof LambdalineError && error.retriable === false && typeof error.field === 'string',
    );
  });

  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(`  ok   ${name}`);
    } catch (error) {
      failed += 1;
      console.error(`  FAIL ${name}\n${String(error?.stack ?? error).replace(/^/gm, '       ')}`);
    }
  }
  console.log(`@lambdaline/core ${format} smoke: ${checks.length - failed} passed, ${failed} failed`);
  if (failed > 0) process.exit(1);
}

module.exports = { run };
