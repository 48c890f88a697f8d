/**
 * @lambdaline/speed-layer — exact incremental event-time views over Kafka
 * (kafkajs) or an in-process log, bounded by the batch horizon, as RxJS
 * streams and as a compacted Kafka feed. This file is the whole public API.
 */
export {
  SpeedLayer,
  createSpeedLayer,
  type SpeedLayerOptions,
  type SpeedLayerState,
  type SpeedLayerStatus,
  type SpeedDelta,
  type SpeedPartitionDelta,
} from './speed-layer.js';

export { InProcessLog, type AppendOptions, type LogRecord } from './in-process-log.js';
export { inProcessSource, type InProcessSourceOptions } from './in-process-source.js';
export { kafkaSource, type KafkaSourceOptions } from './kafka-source.js';
export { resolveBrokers, DEFAULT_BROKERS, type KafkaConnectionOptions } from './kafka.js';

export type {
  SpeedSource,
  SourceHandler,
  SourceBatch,
  SourceMessage,
  TopicPartition,
  DeadLetterSink,
  DeadLetterRecord,
} from './source.js';

export { deadLetterHeaders } from './dead-letters.js';

export {
  SpeedFeedPublisher,
  SpeedFeedEncoder,
  publishSpeedFeed,
  speedFeedPartitionFor,
  type SpeedFeedPublisherOptions,
  type SpeedFeedPublisherStatus,
  type SpeedFeedSource,
  type SpeedFeedBatch,
} from './feed-publisher.js';

export { SpeedLayerError, type SpeedLayerErrorCode } from './errors.js';
export { parseDuration, type Duration } from './duration.js';
