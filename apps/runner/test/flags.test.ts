import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  durationAtLeast,
  parseBrokers,
  parseCount,
  parseDurationMs,
  parseIntegerIn,
  parsePort,
  parseRate,
  parseSeed,
  parseShare,
  parseTime,
  parseTopic,
  parseTopicOrNone,
} from '../src/flags.js';

const invalid = (fn: () => unknown) => expect(fn).toThrow(InvalidArgumentError);

describe('flag parsers', () => {
  it('durations', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(parseDurationMs('2d')).toBe(172_800_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1500')).toBe(1500);
    for (const bad of ['', '1.5s', '-1s', '5 minutes', 's', '10x']) invalid(() => parseDurationMs(bad));
    expect(() => durationAtLeast(1000, '1s')('500ms')).toThrow(/at least 1s/);
  });

  it('integers, counts, rates, shares', () => {
    expect(parseIntegerIn(1, 10)('7')).toBe(7);
    expect(parseIntegerIn(1, 1_000_000)('100_000')).toBe(100_000);
    for (const bad of ['0', '11', '1.5', 'x', '']) invalid(() => parseIntegerIn(1, 10)(bad));
    expect(parseCount('inf')).toBe(Infinity);
    expect(parseCount('5000')).toBe(5000);
    invalid(() => parseCount('-1'));
    expect(parseRate('max')).toBe(Infinity);
    expect(parseRate('0.5')).toBe(0.5);
    for (const bad of ['0', '-3', 'fast']) invalid(() => parseRate(bad));
    expect(parseShare('0.02')).toBe(0.02);
    expect(parseShare('2%')).toBeCloseTo(0.02);
    for (const bad of ['1.5', '-0.1', '200%', '%', 'lots']) invalid(() => parseShare(bad));
  });

  it('ports, brokers, topics', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8080')).toBe(8080);
    for (const bad of ['65536', '-1', 'http', '80.5']) invalid(() => parsePort(bad));
    expect(parseBrokers('a:9092, b:9093')).toEqual(['a:9092', 'b:9093']);
    expect(parseBrokers('[::1]:9092')).toEqual(['[::1]:9092']);
    for (const bad of ['', 'localhost', 'host:0', 'a:9092,b', 'a b:1']) invalid(() => parseBrokers(bad));
    expect(parseTopic('sensor-events.v1')).toBe('sensor-events.v1');
    for (const bad of ['', 'a b', '..', 'x'.repeat(250), 'é']) invalid(() => parseTopic(bad));
    expect(parseTopicOrNone('none')).toBeNull();
  });

  it('seeds and times', () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed('demo')).toBe('demo');
    invalid(() => parseSeed('4294967296'));
    expect(parseTime('2024-05-03')).toBe(Date.UTC(2024, 4, 3));
    expect(parseTime('2024-05-03T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 3, 10));
    for (const bad of ['yesterday', '2024-05-03T12:00:00', '05/03/2024']) invalid(() => parseTime(bad));
  });
});
