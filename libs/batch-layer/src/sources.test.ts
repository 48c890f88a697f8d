import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsv, readNdjson, type RawRecord } from './sources.js';

const dir = mkdtempSync(join(tmpdir(), 'batch-layer-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(gen: AsyncGenerator<RawRecord[]>): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

describe('readers split across chunk boundaries', () => {
  const csv = [
    'a,b,c',
    'plain,1,x',
    '"quoted, comma","say ""hi""",y',
    '"multi\r\nline",2,"ends with quote"""',
    'é☃😀,3,z\r',
    '',
    'short,row',
    '"",,',
    'last,4,no-newline',
  ].join('\n');

  it('CSV: the same records whatever the chunk size (every split point)', async () => {
    const path = join(dir, 'a.csv');
    writeFileSync(path, csv);
    const reference = await all(readCsv(path, () => undefined, ',', 1 << 20));
    expect(reference.map((r) => [r.row, r.cells])).toEqual([
      [2, { a: 'plain', b: '1', c: 'x' }],
      [3, { a: 'quoted, comma', b: 'say "hi"', c: 'y' }],
      [4, { a: 'multi\r\nline', b: '2', c: 'ends with quote"' }],
      [6, { a: 'é☃😀', b: '3', c: 'z' }],
      [8, { malformed: 'CSV record at line 8 has 2 cells but the header has 3; it cannot be mapped to an event object' }],
      [9, { a: '', b: '', c: '' }],
      [10, { a: 'last', b: '4', c: 'no-newline' }],
    ]);
    expect(reference[1]?.raw).toBe('"quoted, comma","say ""hi""",y');
    for (let size = 1; size <= 17; size++) {
      expect(await all(readCsv(path, () => undefined, ',', size)), `chunk size ${size}`).toEqual(reference);
    }
  });

  it('NDJSON: the same lines whatever the chunk size, CRLF and BOM handled', async () => {
    const path = join(dir, 'a.ndjson');
    writeFileSync(path, '\uFEFF{"a":"é😀"}\r\n\n  \n{"b":2}\n{"c":3}');
    const reference = await all(readNdjson(path, () => undefined));
    expect(reference).toEqual([
      { row: 1, raw: '{"a":"é😀"}' },
      { row: 4, raw: '{"b":2}' },
      { row: 5, raw: '{"c":3}' },
    ]);
    for (let size = 1; size <= 9; size++) expect(await all(readNdjson(path, () => undefined, size)), `chunk size ${size}`).toEqual(reference);
  });
});
