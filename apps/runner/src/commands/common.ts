import type { LoadedDomain } from '../config.js';

/** Options every Kafka-facing command shares. */
export interface KafkaCommon {
  readonly domain: LoadedDomain;
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Consumer-group prefix: `<group>-archiver`, `<group>-speed`. */
  readonly group: string;
  /** Partitions of the events topic when the runner creates it. */
  readonly partitions: number;
}

export interface ServeCommon {
  readonly host: string;
  readonly port: number;
}

export interface SpeedCommon {
  readonly allowedLateness: number;
  /** null = dead letters only on the speed layer's stream and in status. */
  readonly deadLetterTopic: string | null;
}
