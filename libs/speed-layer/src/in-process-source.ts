/**
 * The speed layer's source over an `InProcessLog`: one consumer that is
 * assigned every partition of the topic, reads each from where the pipeline
 * seeks it, in batches, one batch at a time, round robin over partitions.
 * Same contract as the Kafka source, so the pipeline is identical.
 */
import { assertParam } from '@lambdaline/core';
import { deadLetterHeaders } from './dead-letters.js';
import type { InProcessLog } from './in-process-log.js';
import type { DeadLetterRecord, DeadLetterSink, SourceBatch, SourceHandler, SpeedSource, TopicPartition } from './source.js';

export interface InProcessSourceOptions {
  /** The events topic in the log (created with 1 partition if missing). */
  readonly topic: string;
  /** Consumer group whose committed offsets are kept in the log. Default `lambdaline-speed`. */
  readonly groupId?: string;
  /** Largest batch handed to the pipeline. Default 2000. */
  readonly maxBatchRecords?: number;
  /**
   * A topic of the same log to append dead letters to (original value and key,
   * reasons in headers named as core `DEAD_LETTER_HEADERS`). Default: none;
   * dead letters are then only emitted on the speed layer's `deadLetters` stream.
   */
  readonly deadLetterTopic?: string;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class InProcessSource implements SpeedSource {
  readonly kind = 'in-process';
  readonly topic: string;
  private readonly groupId: string;
  private readonly maxBatch: number;
  private readonly positions = new Map<number, number>();
  private readonly seekGenerations = new Map<number, number>();
  private handler: SourceHandler | null = null;
  private running = false;
  private scheduled = false;
  private pumping = false;
  private again = false;
  private stopAppendListener: (() => void) | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: InProcessLog,
    private readonly options: InProcessSourceOptions,
  ) {
    assertParam(typeof options?.topic === 'string' && options.topic !== '', 'topic', 'must name the events topic of the log');
    assertParam(options.maxBatchRecords === undefined || (Number.isInteger(options.maxBatchRecords) && options.maxBatchRecords >= 1), 'maxBatchRecords', 'must be a positive integer');
    this.topic = options.topic;
    this.groupId = options.groupId ?? 'lambdaline-speed';
    this.maxBatch = options.maxBatchRecords ?? 2000;
    if (!log.hasTopic(this.topic)) log.createTopic(this.topic, 1);
    if (options.deadLetterTopic !== undefined && !log.hasTopic(options.deadLetterTopic)) log.createTopic(options.deadLetterTopic, 1);
  }

  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
    this.running = true;
    this.stopAppendListener = this.log.onAppend(this.topic, () => this.schedule());
    const assignment: TopicPartition[] = [];
    for (let p = 0; p < this.log.partitionCount(this.topic); p++) assignment.push({ topic: this.topic, partition: p });
    handler.assigned(assignment);
    this.schedule();
  }

  seek(topic: string, partition: number, offset: string): void {
    if (topic !== this.topic) return;
    this.positions.set(partition, Number(offset));
    this.seekGenerations.set(partition, (this.seekGenerations.get(partition) ?? 0) + 1);
    this.schedule();
  }

  async committed(topic: string, partitions: readonly number[]): Promise<Map<number, string | null>> {
    return new Map(partitions.map((p) => [p, this.log.committedOffset(this.groupId, topic, p)]));
  }

  async commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: string }>): Promise<void> {
    for (const o of offsets) this.log.commitOffset(this.groupId, o.topic, o.partition, o.offset);
  }

  async endOffsets(): Promise<Map<number, string>> {
    return this.log.endOffsets(this.topic);
  }

  deadLetterSink(): DeadLetterSink {
    const topic = this.options.deadLetterTopic;
    const log = this.log;
    return {
      description: topic === undefined ? 'in-process (deadLetters stream only)' : `in-process topic ${topic}`,
      async deliver(records: readonly DeadLetterRecord[]) {
        if (topic === undefined) return;
        for (const r of records) {
          const headers = deadLetterHeaders(r);
          const value = r.value === null ? null : typeof r.value === 'string' ? r.value : new Uint8Array(r.value);
          const key = r.key === null ? null : typeof r.key === 'string' ? r.key : new Uint8Array(r.key);
          log.append(topic, value, { key, headers });
        }
      },
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopAppendListener?.();
    this.stopAppendListener = null;
    await this.idle;
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.idle = this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.running) return;
    this.pumping = true;
    try {
      let progress = true;
      while (this.running && (progress || this.again)) {
        this.again = false;
        progress = false;
        const partitions = this.log.partitionCount(this.topic);
        for (let p = 0; p < partitions && this.running; p++) {
          const position = this.positions.get(p) ?? 0;
          const records = this.log.read(this.topic, p, position, this.maxBatch);
          if (records.length === 0) continue;
          progress = true;
          const generation = this.seekGenerations.get(p) ?? 0;
          const end = this.log.endOffset(this.topic, p);
          const batch: SourceBatch = {
            topic: this.topic,
            partition: p,
            fetchedOffset: String(position),
            messages: records,
            lastOffset: records[records.length - 1]!.offset,
            highWatermark: end,
            isStale: () => !this.running || (this.seekGenerations.get(p) ?? 0) !== generation,
          };
          await this.handler!.batch(batch);
          if ((this.seekGenerations.get(p) ?? 0) === generation) this.positions.set(p, position + records.length);
        }
        // Let timers (view flushes, emissions) run between rounds, as a network fetch would.
        await yieldToEventLoop();
      }
    } catch (error) {
      this.handler?.failed(error as Error);
    } finally {
      this.pumping = false;
    }
  }
}

/** A speed-layer source reading `options.topic` of an `InProcessLog`. */
export function inProcessSource(log: InProcessLog, options: InProcessSourceOptions): SpeedSource {
  return new InProcessSource(log, options);
}
