import { describe, expect, it } from 'vitest';
import { ConfigError } from '@lambdaline/core';
import { ensureTopic, generateEvents, generateMessages, liveEvents, liveMessages, planEvents, produceToKafka, writeHistory } from './index.js';

/** The ConfigError `fn` throws (synchronously or by rejecting). */
async function configErrorOf(fn: () => unknown): Promise<ConfigError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).retriable).toBe(false);
  return error as ConfigError;
}

describe('bad options fail at the call with a ConfigError naming the parameter', () => {
  const cases: Array<[string, () => unknown]> = [
    ['seed', () => generateEvents({ seed: -1 })],
    ['seed', () => generateEvents({ seed: 1.5 })],
    ['seed', () => generateEvents({ seed: 2 ** 32 })],
    ['sensors', () => generateEvents({ sensors: 0 })],
    ['sensors', () => generateEvents({ sensors: 2_000_000 })],
    ['idPrefix', () => generateEvents({ idPrefix: 'has space' })],
    ['startIndex', () => generateEvents({ startIndex: -3 })],
    ['count', () => generateEvents({ startIndex: 2 ** 32 - 10, count: 11 })],
    ['count', () => generateEvents({ count: -1 })],
    ['count', () => generateEvents({ count: 10, eventsPerDay: 10 })],
    ['count', () => generateEvents({ count: 100_000_001 })],
    ['eventsPerDay', () => generateEvents({ eventsPerDay: Number.NaN })],
    ['from', () => generateEvents({ from: 'yesterday' })],
    ['from', () => generateEvents({ from: '2024-05-01T12:00:00' })],
    ['from', () => generateEvents({ from: -5 })],
    ['to', () => generateEvents({ from: '2024-05-02', to: '2024-05-01' })],
    ['to', () => generateEvents({ from: '2024-05-01', to: '2024-05-01' })],
    ['days', () => generateEvents({ days: 0 })],
    ['days', () => generateEvents({ from: '2024-05-01', to: '2024-05-02', days: 1 })],
    ['from', () => planEvents({ to: '1970-01-01T01:00:00Z', days: 1 })],
    ['malformedShare', () => generateMessages({ malformedShare: 1.5 })],
    ['malformedShare', () => generateMessages({ malformedShare: -0.1 })],
    ['lateShare', () => generateMessages({ lateShare: Number.NaN })],
    ['lateByMs', () => generateMessages({ lateByMs: -1 })],
    ['jitterMs', () => generateMessages({ jitterMs: Infinity })],
    ['malformedKinds', () => generateMessages({ malformedKinds: [] })],
    ['malformedKinds[1]', () => generateMessages({ malformedKinds: ['wrong_type', 'too_late' as never] })],
    ['rate', () => liveMessages({ rate: -5 })],
    ['rate', () => liveMessages({ rate: Number.NaN })],
    ['count', () => liveMessages({ count: 1.5 })],
    ['chunkSize', () => liveMessages({ rate: Infinity, chunkSize: 0 })],
    ['clock', () => liveMessages({ clock: 5 as never })],
    ['malformedShare', () => liveEvents({ malformedShare: 0.1 } as never)],
    ['dir', () => writeHistory({ dir: '' })],
    ['rowsPerFile', () => writeHistory({ dir: '/tmp/x', rowsPerFile: 0 })],
    ['timestamp', () => writeHistory({ dir: '/tmp/x', timestamp: 'epoch' as never })],
    ['compression', () => writeHistory({ dir: '/tmp/x', compression: 'lz5' as never })],
    ['threads', () => writeHistory({ dir: '/tmp/x', threads: 0 })],
    ['to', () => writeHistory({ dir: '/tmp/x', from: '2024-01-02', to: '2024-01-01' })],
    ['topic', () => ensureTopic({ topic: 'no spaces allowed' })],
    ['partitions', () => ensureTopic({ topic: 't', partitions: 0 })],
    ['brokers', () => ensureTopic({ topic: 't', brokers: [] })],
    ['topic', () => produceToKafka({ topic: '', source: [] })],
    ['source', () => produceToKafka({ topic: 't', source: undefined as never })],
    ['batchSize', () => produceToKafka({ topic: 't', source: [], batchSize: 0 })],
    ['acks', () => produceToKafka({ topic: 't', source: [], acks: 0 as never })],
  ];

  it.each(cases)('%s', async (field, fn) => {
    const error = await configErrorOf(fn);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}:`)).toBe(true);
  });
});
