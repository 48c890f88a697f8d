/**
 * One way to pull batches from the three kinds of sources a producer accepts.
 *
 * - A sync iterable (`generateMessages`) is pulled only when the producer is
 *   ready: backpressure, bounded memory, as fast as the broker takes it.
 * - An async iterable is read ahead by at most `highWater` items.
 * - An Observable (`liveMessages`) pushes; it cannot be slowed down, so its
 *   items queue up while a send is in flight. Rate-limited streams keep that
 *   queue short; an unlimited-rate Observable into a slower broker grows it
 *   (use a sync iterable for bulk loads).
 *
 * Whichever it is, `next(max)` resolves with whatever is ready (1..max items)
 * as soon as there is something: small batches when the source is slow (low
 * latency), full ones when it is fast (throughput).
 */
import type { Subscribable, Unsubscribable } from '@lambdaline/core';

export interface BatchSource<T> {
  /** 1..max items, or null when the source is done. Rejects with the source's error. */
  next(max: number): Promise<T[] | null>;
  /** Stops reading (unsubscribes / returns the iterator). */
  close(): void;
}

export function isSubscribable<T>(value: unknown): value is Subscribable<T> {
  return typeof value === 'object' && value !== null && typeof (value as Subscribable<T>).subscribe === 'function';
}

export function batchSource<T>(source: Subscribable<T> | Iterable<T> | AsyncIterable<T>, highWater: number): BatchSource<T> {
  if (isSubscribable<T>(source)) return pushSource(source);
  if (typeof (source as Iterable<T>)[Symbol.iterator] === 'function') return syncSource((source as Iterable<T>)[Symbol.iterator]());
  return asyncSource((source as AsyncIterable<T>)[Symbol.asyncIterator](), highWater);
}

function syncSource<T>(iterator: Iterator<T>): BatchSource<T> {
  let done = false;
  return {
    async next(max) {
      if (done) return null;
      const batch: T[] = [];
      while (batch.length < max) {
        const step = iterator.next();
        if (step.done) {
          done = true;
          break;
        }
        batch.push(step.value);
      }
      return batch.length > 0 ? batch : null;
    },
    close() {
      if (!done) iterator.return?.();
      done = true;
    },
  };
}

/** A queue filled by a producer-side callback, drained by `next`. */
class Queue<T> {
  private items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private spaceWaiter: (() => void) | undefined;

  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    this.items.push(item);
    this.notify();
  }
  end(): void {
    this.ended = true;
    this.notify();
  }
  fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }
  /** Resolves when `next` has drained below `limit`. */
  waitForSpace(limit: number): Promise<void> {
    if (this.items.length < limit) return Promise.resolve();
    return new Promise((resolve) => {
      this.spaceWaiter = resolve;
    });
  }
  async next(max: number): Promise<T[] | null> {
    while (this.items.length === 0 && !this.ended && !this.failure) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.failure) throw this.failure.error;
    if (this.items.length === 0) return null;
    const batch = this.items.length <= max ? this.items : this.items.slice(0, max);
    this.items = this.items.length <= max ? [] : this.items.slice(max);
    const waiter = this.spaceWaiter;
    this.spaceWaiter = undefined;
    waiter?.();
    return batch;
  }
  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function pushSource<T>(source: Subscribable<T>): BatchSource<T> {
  const queue = new Queue<T>();
  const subscription: Unsubscribable = source.subscribe({
    next: (item) => queue.push(item),
    error: (error) => queue.fail(error),
    complete: () => queue.end(),
  });
  return {
    next: (max) => queue.next(max),
    close() {
      subscription.unsubscribe();
      queue.end();
    },
  };
}

function asyncSource<T>(iterator: AsyncIterator<T>, highWater: number): BatchSource<T> {
  const queue = new Queue<T>();
  let closed = false;
  void (async () => {
    try {
      while (!closed) {
        await queue.waitForSpace(highWater);
        if (closed) break;
        const step = await iterator.next();
        if (step.done) break;
        queue.push(step.value);
      }
      queue.end();
    } catch (error) {
      queue.fail(error);
    }
  })();
  return {
    next: (max) => queue.next(max),
    close() {
      if (closed) return;
      closed = true;
      queue.end();
      void Promise.resolve(iterator.return?.()).catch(() => {});
    },
  };
}
