/**
 * @lambdaline/serving-layer — merges batch snapshots and speed views into
 * exact answers (each event counted once), with a JS API, an HTTP/SSE server,
 * Prometheus metrics and a live dashboard. This file is the whole public API.
 */
export {
  ServingLayer,
  createServingLayer,
  type ServingLayerOptions,
  type StatusProvider,
  type BatchStatusReport,
  type QueryResult,
  type ViewChange,
  type AnswerHorizon,
  type Freshness,
  type Consistency,
  type PartitionConsistency,
  type ServingStatus,
  type SpeedPartitionStatus,
  type ViewDescription,
} from './serving.js';

export {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  normalizeQuery,
  parseQueryParams,
  type QueryOptions,
  type TimeBound,
  type NormalizedQuery,
  type DimensionFilter,
  type RawParams,
} from './query.js';

export {
  selectPair,
  EMPTY_SNAPSHOT,
  type PairSelection,
  type PairMode,
  type PartitionUse,
  type PartitionUseState,
} from './selection.js';

export { UnknownViewError } from './errors.js';

export {
  inMemoryBatchSource,
  inMemorySpeedSource,
  type InMemoryBatchSource,
  type InMemorySpeedSource,
} from './in-memory.js';

export {
  snapshotDirectorySource,
  type SnapshotDirectorySource,
  type SnapshotDirectorySourceOptions,
} from './snapshot-directory-source.js';

export {
  speedFeedSource,
  SpeedFeedError,
  type SpeedFeedSource,
  type SpeedFeedSourceOptions,
} from './speed-feed-source.js';

export { type ServingMetrics, type ServingMetricsOptions } from './metrics.js';

export {
  createServingServer,
  startServingServer,
  type ServingServerOptions,
  type StartServingServerOptions,
  type RunningServingServer,
} from './http.js';
