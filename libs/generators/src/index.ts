/**
 * @lambdaline/generators — seeded sample data for the default domain (core's
 * `sensorEventSchema`): history as day-partitioned Parquet, live RxJS streams
 * with malformed and late messages, and a Kafka producer. This file is the
 * whole public API.
 */
export {
  DEFAULT_SENSORS,
  type SensorEvent,
  type SensorCategory,
  type SensorStatus,
  type EventOptions,
} from './event-model.js';

export { DEFAULT_FROM_MS, DEFAULT_EVENTS_PER_DAY, MAX_EVENTS_PER_DAY, type TimeRangeOptions, type DayPlan } from './plan.js';

export { generateEvents, planEvents, type GenerateEventsOptions, type EventPlan } from './generate-events.js';

export type { TimeInput } from './options.js';

export { MALFORMED_KINDS, type MalformedKind } from './malformed.js';

export {
  generateMessages,
  DEFAULT_LATE_BY_MS,
  type GenerateMessagesOptions,
  type MessageOptions,
  type GeneratedMessage,
  type ValidMessage,
  type MalformedMessage,
  type Expectation,
} from './messages.js';

export { liveMessages, liveEvents, liveRawMessages, DEFAULT_RATE, type LiveStreamOptions } from './live.js';

export {
  writeHistory,
  historyFilePath,
  DEFAULT_ROWS_PER_FILE,
  type WriteHistoryOptions,
  type HistoryFile,
  type HistoryProgress,
  type HistoryResult,
  type ParquetCompression,
} from './write-history.js';

export type { TimestampColumn } from './history-sql.js';

export {
  defaultBrokers,
  ensureTopic,
  type KafkaConnectOptions,
  type EnsureTopicOptions,
  type EnsureTopicResult,
} from './kafka-client.js';

export {
  produceToKafka,
  EXPECTED_HEADER,
  DEFAULT_BATCH_SIZE,
  type ProduceOptions,
  type ProduceResult,
  type ProduceItem,
  type ProduceSource,
  type PartitionProduced,
} from './produce.js';
