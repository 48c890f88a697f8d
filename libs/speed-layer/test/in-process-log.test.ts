import { ConfigError } from '@lambdaline/core';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InProcessLog } from '../src/index.js';

describe('InProcessLog', () => {
  it('appends with per-partition offsets, by explicit partition, key hash or round robin', () => {
    const log = new InProcessLog({ t: 3 });
    const a = log.append('t', 'a', { partition: 2 });
    expect(a).toMatchObject({ topic: 't', partition: 2, offset: '0', value: 'a' });
    expect(log.append('t', 'b', { partition: 2 }).offset).toBe('1');
    const k1 = log.append('t', 'x', { key: 'sensor_1' });
    const k2 = log.append('t', 'y', { key: 'sensor_1' });
    expect(k2.partition).toBe(k1.partition);
    const rr = log.appendMany('t', ['1', '2', '3']).map((r) => r.partition);
    expect(new Set(rr).size).toBe(3);
    expect(log.endOffsets('t').get(2)).toBe(String(log.read('t', 2).length));
    expect(log.read('t', 2, 1, 1).map((r) => r.value)).toEqual(['b']);
    expect(log.get('t', 2, '0')?.value).toBe('a');
  });

  it('streams a partition from any offset, then follows appends, asynchronously', async () => {
    const log = new InProcessLog({ t: 1 });
    log.appendMany('t', ['a', 'b', 'c']);
    const seen: string[] = [];
    const done = firstValueFrom(log.records('t', 0, '1').pipe(take(4), toArray()));
    log.records('t', 0, 2).pipe(take(1)).subscribe((r) => seen.push(r.value as string));
    expect(seen).toEqual([]); // never inside append or subscribe
    log.append('t', 'd');
    log.append('t', 'e');
    expect((await done).map((r) => `${r.offset}:${r.value as string}`)).toEqual(['1:b', '2:c', '3:d', '4:e']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['c']);
  });

  it('keeps committed offsets per group and rejects bad parameters with ConfigErrors', () => {
    const log = new InProcessLog();
    log.createTopic('t', 2);
    log.createTopic('t', 2);
    expect(() => log.createTopic('t', 3)).toThrow(/^partitions: topic t already exists with 2/);
    expect(log.committedOffset('g', 't', 1)).toBeNull();
    log.commitOffset('g', 't', 1, '5');
    expect(log.committedOffset('g', 't', 1)).toBe('5');
    expect(log.committedOffset('h', 't', 1)).toBeNull();
    expect(() => log.append('t', 'x', { partition: 2 })).toThrow(ConfigError);
    expect(() => log.read('t', 5)).toThrow(/^partition:/);
    expect(() => log.read('t', 0, -1)).toThrow(/^fromOffset:/);
    expect(() => log.append('nope', 'x')).toThrow(/^topic:/);
  });
});
