/**
 * @lambdaline/core — the contracts every lambdaline layer shares. This file is
 * the whole public API.
 */
export {
  LambdalineError,
  ViewSpecError,
  SchemaError,
  ConfigError,
  FormatError,
  assertParam,
  type LambdalineErrorOptions,
} from './errors.js';

export {
  validateEventSchema,
  validateEvent,
  parseEvent,
  coerceTextFields,
  checkFieldValue,
  REJECTION_CODES,
  type FieldType,
  type FieldSpec,
  type EventSchema,
  type LambdaEvent,
  type Rejection,
  type RejectionCode,
  type ValidationResult,
} from './event-schema.js';

export {
  DAY_MS,
  parseGranularity,
  windowStartOf,
  utcDay,
  parseTimestamp,
  canonicalTimestampMs,
  formatTimestamp,
  type Granularity,
} from './time.js';

export {
  MEASURE_OPS,
  measureMonoid,
  isPartOf,
  type MeasureOp,
  type Monoid,
  type MeasurePart,
  type PartOf,
  type CountPart,
  type SumPart,
  type MinPart,
  type MaxPart,
  type AvgPart,
} from './measures.js';

export {
  validateViewSpec,
  validateViewSpecs,
  type ViewSpec,
  type MeasureSpec,
  type ResolvedViewSpec,
} from './view-spec.js';

export {
  ViewAccumulator,
  rowKey,
  combineRows,
  eventTimeOf,
  foldEvents,
  mergeViewRows,
  compareRows,
  sortRows,
  finalizeRow,
  diffViewRows,
  type ViewRow,
  type FinalRow,
  type DimensionValue,
  type RowDifference,
} from './view-rows.js';

export {
  emptyHorizon,
  makeHorizon,
  parseOffset,
  horizonEndOffset,
  horizonPartition,
  isCoveredByHorizon,
  extendHorizon,
  mergeHorizons,
  compareHorizons,
  horizonsEqual,
  horizonKey,
  decodeHorizon,
  type Horizon,
  type PartitionHorizon,
  type HorizonOrder,
} from './horizon.js';

export { DEAD_LETTER_HEADERS, rawText, type SourceRecord, type RecordOrigin, type DeadLetter } from './records.js';

export type {
  Observer,
  Unsubscribable,
  Subscribable,
  BatchRunInfo,
  BatchSnapshot,
  BatchSnapshotSource,
  SpeedPartitionView,
  SpeedChange,
  SpeedViewSource,
  SpeedStatus,
  PartitionLag,
} from './contracts.js';

export {
  SNAPSHOT_FORMAT,
  SNAPSHOT_POINTER_FILE,
  SNAPSHOT_META_FILE,
  snapshotDirName,
  encodeViewRowLine,
  decodeViewRowLine,
  readSnapshotPointer,
  readSnapshotMeta,
  decodeViewRows,
  readSnapshotDir,
  readCurrentSnapshot,
  type SnapshotMeta,
} from './snapshot-format.js';

export {
  SpeedFeedReader,
  speedFeedPartitionKey,
  encodeSpeedFeedRow,
  encodeSpeedFeedTombstone,
  encodeSpeedFeedMark,
  type SpeedFeedMark,
  type SpeedFeedMessage,
} from './speed-feed.js';

export {
  sensorEventSchema,
  dailyByCategoryView,
  sensor5minView,
  defaultViews,
  defaultDomain,
  SENSOR_CATEGORIES,
  SENSOR_STATUSES,
  type Domain,
} from './default-domain.js';

export { resolveDomain, type ResolvedDomain } from './domain.js';
