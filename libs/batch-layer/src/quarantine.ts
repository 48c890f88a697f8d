/**
 * Reading the quarantine: every rejected input with its raw text, the
 * rejection code and field, the reason, and where it came from (core
 * `DeadLetter`). Counts come from the manifest, so they are exact and cheap.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FormatError, type DeadLetter, type RejectionCode } from '@lambdaline/core';
import type { Manifest } from './manifest.js';

export type QuarantineCode = RejectionCode | 'processing_error';

export interface QuarantineFilter {
  readonly code?: QuarantineCode;
  readonly origin?: 'kafka' | 'file' | 'api';
}

export interface QuarantineSummary {
  readonly count: number;
  readonly byCode: Readonly<Partial<Record<QuarantineCode, number>>>;
}

export class QuarantineReader implements QuarantineSummary {
  readonly count: number;
  readonly byCode: Readonly<Partial<Record<QuarantineCode, number>>>;

  constructor(
    private readonly root: string,
    private readonly manifest: Manifest,
    private readonly upTo: number,
  ) {
    let count = 0;
    const byCode: Partial<Record<QuarantineCode, number>> = {};
    for (const commit of manifest.commitsBetween(0, upTo)) {
      if (!commit.quarantine) continue;
      count += commit.quarantine.count;
      for (const [code, n] of Object.entries(commit.quarantine.byCode)) byCode[code as QuarantineCode] = (byCode[code as QuarantineCode] ?? 0) + (n ?? 0);
    }
    this.count = count;
    this.byCode = byCode;
  }

  /** Every dead letter, in commit order. */
  async *entries(filter: QuarantineFilter = {}): AsyncGenerator<DeadLetter> {
    for (const commit of this.manifest.commitsBetween(0, this.upTo)) {
      if (!commit.quarantine) continue;
      if (filter.code !== undefined && !commit.quarantine.byCode[filter.code]) continue;
      const path = join(this.root, commit.quarantine.path);
      const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
      let n = 0;
      for await (const line of lines) {
        n++;
        if (line === '') continue;
        let letter: DeadLetter;
        try {
          letter = JSON.parse(line) as DeadLetter;
        } catch (error) {
          throw new FormatError(`${path}:${n}: not a dead letter (${(error as Error).message})`);
        }
        if (filter.code !== undefined && letter.code !== filter.code) continue;
        if (filter.origin !== undefined && letter.origin.kind !== filter.origin) continue;
        yield letter;
      }
    }
  }

  /** Up to `limit` dead letters (default 1000) as an array. */
  async read(filter: QuarantineFilter & { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = filter.limit ?? 1000;
    const out: DeadLetter[] = [];
    if (limit <= 0) return out;
    for await (const letter of this.entries(filter)) {
      out.push(letter);
      if (out.length >= limit) break;
    }
    return out;
  }
}
