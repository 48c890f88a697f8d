/**
 * A compact, columnar copy of the valid records a partition has read past its
 * base offset: offset, event time, and only the fields the views read
 * (dimensions and measure inputs). It lets a partition be rebuilt from a new,
 * later horizon by refolding the suffix at or past it, without reading Kafka
 * again. About 8 bytes per field plus 17 per record; strings are interned.
 *
 * The buffer covers a contiguous offset range [coveredFrom, end): every valid
 * record in it is held. When memory runs short the oldest chunk is dropped and
 * `coveredFrom` moves forward; a horizon below `coveredFrom` is then served by
 * seeking back instead.
 */
import type { EventSchema, LambdaEvent, ResolvedViewSpec } from '@lambdaline/core';

const CHUNK = 4096;

type ColumnKind = 'number' | 'interned' | 'presence';

interface ProjectedField {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** Which event fields the views read, and how each is stored. Shared by all partitions. */
export class Projection {
  readonly fields: readonly ProjectedField[];
  /** Per interned field: value → id, and id → value. */
  private readonly ids: Map<unknown, number>[];
  private readonly values: unknown[][];

  /** `codegen: false` keeps the generic code (tests compare both). */
  constructor(schema: EventSchema, views: readonly ResolvedViewSpec[], codegen = true) {
    const dims = new Set<string>();
    const measured = new Set<string>();
    for (const view of views) {
      for (const d of view.dimensions) dims.add(d);
      for (const m of view.measures) if (m.field !== undefined) measured.add(m.field);
    }
    const fields: ProjectedField[] = [];
    for (const name of new Set([...dims, ...measured])) {
      const type = schema.fields[name]?.type;
      const numeric = type === 'number' || type === 'integer';
      const kind: ColumnKind = numeric ? 'number' : dims.has(name) ? 'interned' : 'presence';
      fields.push({ name, kind });
    }
    this.fields = fields;
    this.ids = fields.map(() => new Map());
    this.values = fields.map(() => []);
    this.write = (codegen ? this.compileWrite() : null) ?? ((columns, i, event) => {
      for (let f = 0; f < fields.length; f++) columns[f]![i] = this.encode(f, event[fields[f]!.name]);
    });
  }

  /** Writes `event`'s projected fields, encoded, at row `i` of `columns` (one column per field). */
  readonly write: (columns: readonly Float64Array[], i: number, event: LambdaEvent) => void;

  /**
   * `write` generated for these fields: named loads and the interning inline,
   * instead of a keyed load with a different name per field plus a call per
   * field. Same encoding as `encode`. Null where code generation is not allowed.
   */
  private compileWrite(): ((columns: readonly Float64Array[], i: number, event: LambdaEvent) => void) | null {
    const params: string[] = [];
    const args: unknown[] = [];
    const lines: string[] = ['var v, id;'];
    this.fields.forEach((f, index) => {
      lines.push(`v = event[${JSON.stringify(f.name)}];`);
      const store = `columns[${index}][i] = `;
      if (f.kind === 'number') lines.push(`${store}v === null || v === undefined ? NaN : v;`);
      else if (f.kind === 'presence') lines.push(`${store}v === null || v === undefined ? NaN : 1;`);
      else {
        params.push(`ids${index}`, `values${index}`);
        args.push(this.ids[index], this.values[index]);
        lines.push(
          'if (v === null || v === undefined) id = NaN;',
          `else { id = ids${index}.get(v); if (id === undefined) { id = values${index}.length; values${index}.push(v); ids${index}.set(v, id); } }`,
          `${store}id;`,
        );
      }
    });
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a validated schema and views only
      return new Function(...params, `return function write(columns, i, event) {\n${lines.join('\n')}\n};`)(...args) as (columns: readonly Float64Array[], i: number, event: LambdaEvent) => void;
    } catch {
      return null;
    }
  }

  encode(field: number, value: unknown): number {
    if (value === null || value === undefined) return Number.NaN;
    const f = this.fields[field]!;
    if (f.kind === 'number') return value as number;
    if (f.kind === 'presence') return 1;
    const ids = this.ids[field]!;
    let id = ids.get(value);
    if (id === undefined) {
      id = this.values[field]!.length;
      this.values[field]!.push(value);
      ids.set(value, id);
    }
    return id;
  }

  decode(field: number, stored: number): string | number | boolean | null {
    if (stored !== stored) return null;
    const f = this.fields[field]!;
    if (f.kind === 'interned') return this.values[field]![stored] as string | number | boolean;
    return stored;
  }
}

class Chunk {
  length = 0;
  readonly offsets = new Float64Array(CHUNK);
  readonly times = new Float64Array(CHUNK);
  readonly columns: Float64Array[];
  constructor(fields: number) {
    this.columns = Array.from({ length: fields }, () => new Float64Array(CHUNK));
  }
}

export interface BufferedRecord {
  readonly offset: number;
  readonly eventTime: number;
  /** Only the projected fields; enough for `ViewState.add`. */
  readonly event: LambdaEvent;
}

export class ReplayBuffer {
  private chunks: Chunk[] = [];
  /** Index of the first live record in chunks[0]. */
  private head = 0;
  private count = 0;
  /** Every valid record with offset in [coveredFrom, end of reading) is held. */
  coveredFrom: number;

  constructor(
    private readonly projection: Projection,
    coveredFrom: number,
  ) {
    this.coveredFrom = coveredFrom;
  }

  get size(): number {
    return this.count;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  push(offset: number, eventTime: number, event: LambdaEvent): void {
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.length === CHUNK) {
      chunk = new Chunk(this.projection.fields.length);
      this.chunks.push(chunk);
    }
    const i = chunk.length++;
    chunk.offsets[i] = offset;
    chunk.times[i] = eventTime;
    this.projection.write(chunk.columns, i, event);
    this.count++;
  }

  /** Forgets the oldest chunk (memory pressure); returns how many records went. */
  dropOldestChunk(nextOffset: number): number {
    const chunk = this.chunks.shift();
    if (!chunk) return 0;
    const dropped = chunk.length - this.head;
    this.count -= dropped;
    this.head = 0;
    const following = this.chunks[0];
    this.coveredFrom = following && following.length > 0 ? following.offsets[0]! : nextOffset;
    return dropped;
  }

  /** Whether a rebuild starting at `offset` can be served from memory. */
  covers(offset: number): boolean {
    return offset >= this.coveredFrom;
  }

  /** Drops every record below `offset` and makes `offset` the start of coverage. */
  trimBelow(offset: number): void {
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      if (chunk.length > 0 && chunk.offsets[chunk.length - 1]! >= offset) {
        while (this.head < chunk.length && chunk.offsets[this.head]! < offset) {
          this.head++;
          this.count--;
        }
        break;
      }
      this.count -= chunk.length - this.head;
      this.head = 0;
      this.chunks.shift();
    }
    if (offset > this.coveredFrom) this.coveredFrom = offset;
  }

  /** The held records in offset order (allocates one small object per record: rebuilds only). */
  *records(): IterableIterator<BufferedRecord> {
    const fields = this.projection.fields;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      for (let i = c === 0 ? this.head : 0; i < chunk.length; i++) {
        const event: Record<string, string | number | boolean | null> = {};
        for (let f = 0; f < fields.length; f++) event[fields[f]!.name] = this.projection.decode(f, chunk.columns[f]![i]!);
        yield { offset: chunk.offsets[i]!, eventTime: chunk.times[i]!, event };
      }
    }
  }
}
