/**
 * The Kafka offsets a partition has in the master dataset, as sorted disjoint
 * half-open ranges [from, to). Archiving checks every record against it: an
 * offset already covered is a duplicate and is skipped, which is what makes a
 * crash-and-retry (or an overlapping re-feed) exactly-once.
 */
export class OffsetCoverage {
  /** Sorted, disjoint and non-adjacent (adjacent ranges are merged). */
  private readonly ranges: Array<[bigint, bigint]> = [];

  /** Exclusive end of the highest range (0 when empty): the horizon's end offset. */
  get end(): bigint {
    return this.ranges.length === 0 ? 0n : this.ranges[this.ranges.length - 1]![1];
  }

  /** Number of separate ranges; more than one means a gap below `end`. */
  get rangeCount(): number {
    return this.ranges.length;
  }

  list(): ReadonlyArray<readonly [bigint, bigint]> {
    return this.ranges;
  }

  covers(offset: bigint): boolean {
    const ranges = this.ranges;
    if (ranges.length === 0 || offset >= ranges[ranges.length - 1]![1]) return false;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [from, to] = ranges[mid]!;
      if (offset < from) hi = mid - 1;
      else if (offset >= to) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Adds [from, to), merging with overlapping or adjacent ranges. */
  add(from: bigint, to: bigint): void {
    if (to <= from) return;
    const ranges = this.ranges;
    // Fast path: appending at or after the end, the archiver's normal case.
    const last = ranges[ranges.length - 1];
    if (!last || from > last[1]) {
      ranges.push([from, to]);
      return;
    }
    if (from >= last[0]) {
      if (to > last[1]) last[1] = to;
      return;
    }
    let start = from;
    let end = to;
    const kept: Array<[bigint, bigint]> = [];
    for (const range of ranges) {
      if (range[1] < start || range[0] > end) kept.push(range);
      else {
        if (range[0] < start) start = range[0];
        if (range[1] > end) end = range[1];
      }
    }
    kept.push([start, end]);
    kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    ranges.length = 0;
    ranges.push(...kept);
  }

  clone(): OffsetCoverage {
    const copy = new OffsetCoverage();
    for (const [from, to] of this.ranges) copy.ranges.push([from, to]);
    return copy;
  }
}

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
