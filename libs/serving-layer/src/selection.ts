/**
 * The consistent-pair rule: which batch snapshot to answer from, and which
 * speed partition views to add to it.
 *
 * A speed partition view P holds exactly the records of its topic-partition
 * with offsets in [P.baseOffset, P.nextOffset). A snapshot S holds, per
 * partition, the records below `horizonEndOffset(S.horizon, topic, partition)`.
 * So S + P counts every record of the partition below P.nextOffset exactly
 * once iff P.baseOffset equals S's end offset for that partition. Anything else
 * double-counts (P starts below the end) or leaves a gap (P starts above).
 *
 * The serving layer keeps the last few snapshots, the *live* view of every
 * partition the speed source holds, and the last view it received for each
 * earlier `baseOffset` of a partition (*retained*: superseded when the speed
 * layer rebuilt the partition for a new horizon, or left when the partition
 * was revoked). Then, newest snapshot first:
 *
 *  1. `live`: the newest snapshot S with which every live partition view is
 *     consistent. Every partition is added, up to date.
 *  2. `catching-up`: otherwise the newest snapshot S for which every live
 *     partition has a consistent view, live or retained. This is the window
 *     between a new batch publish and the speed layer rebuilding all its
 *     partitions for it (or a speed layer that saw a horizon before this
 *     serving layer saw its snapshot): the old pair keeps answering, exactly,
 *     with the rebuilt partitions frozen at their last pre-rebuild state.
 *  3. `partial`: otherwise (no snapshot fits some partition, e.g. the serving
 *     layer started while the speed layer was already on a snapshot this one
 *     has not loaded yet) the newest snapshot, with every partition that has
 *     no consistent view *excluded*: that partition is counted up to the
 *     snapshot's end offset only. Still exact over the events it includes —
 *     never double-counted — just less fresh; the answer flags it.
 *
 * Retained views of partitions that are no longer live (revoked) are added
 * when they fit the chosen snapshot, and never constrain the choice.
 */
import { horizonEndOffset, type BatchSnapshot, type SpeedPartitionView } from '@lambdaline/core';

export type PairMode = 'live' | 'catching-up' | 'partial';
export type PartitionUseState = 'live' | 'frozen' | 'excluded';

export interface PartitionUse {
  readonly topic: string;
  readonly partition: number;
  readonly state: PartitionUseState;
  /** The view added to the snapshot; null when excluded. */
  readonly view: SpeedPartitionView | null;
  /** The snapshot's end offset for this partition: the baseOffset a consistent view has. */
  readonly expectedBaseOffset: string;
  /** The live view's baseOffset (null when the partition is not live any more). */
  readonly liveBaseOffset: string | null;
  readonly reason?: string;
}

export interface PairSelection {
  readonly snapshot: BatchSnapshot;
  readonly mode: PairMode;
  /** Sorted by topic, then partition. */
  readonly partitions: readonly PartitionUse[];
}

export const tpKey = (topic: string, partition: number): string => `${topic}|${partition}`;

/** Orders topic-partitions by topic, then partition (how partition lists are given out). */
export const compareTopicPartitions = (a: { topic: string; partition: number }, b: { topic: string; partition: number }): number =>
  a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;

/** Stands for "no batch yet": covers nothing, so speed views with baseOffset "0" fit it. */
export const EMPTY_SNAPSHOT: BatchSnapshot = Object.freeze({
  version: 0,
  createdAt: new Date(0).toISOString(),
  horizon: { partitions: [], maxEventTime: null },
  views: {},
});

/**
 * Applies the rule above. `snapshots` must be ordered newest first and be
 * non-empty (pass `EMPTY_SNAPSHOT` when there is none).
 */
export function selectPair(
  snapshots: readonly BatchSnapshot[],
  live: ReadonlyMap<string, SpeedPartitionView>,
  retained: ReadonlyMap<string, ReadonlyMap<string, SpeedPartitionView>>,
): PairSelection {
  if (snapshots.length === 0) throw new TypeError('selectPair needs at least one snapshot');
  const liveList = [...live.values()];
  const fitsLive = (s: BatchSnapshot) => liveList.every((v) => v.baseOffset === horizonEndOffset(s.horizon, v.topic, v.partition));
  const fitsAny = (s: BatchSnapshot) =>
    liveList.every((v) => {
      const end = horizonEndOffset(s.horizon, v.topic, v.partition);
      return v.baseOffset === end || retained.get(tpKey(v.topic, v.partition))?.has(end) === true;
    });

  let snapshot = snapshots.find(fitsLive);
  let mode: PairMode = 'live';
  if (!snapshot) {
    snapshot = snapshots.find(fitsAny);
    mode = 'catching-up';
  }
  if (!snapshot) {
    snapshot = snapshots[0]!;
    mode = 'partial';
  }

  const uses: PartitionUse[] = [];
  const keys = new Set([...live.keys(), ...retained.keys()]);
  for (const key of keys) {
    const current = live.get(key);
    const anyView = current ?? retained.get(key)!.values().next().value!;
    const { topic, partition } = anyView;
    const end = horizonEndOffset(snapshot.horizon, topic, partition);
    const liveBaseOffset = current?.baseOffset ?? null;
    if (current && current.baseOffset === end) {
      uses.push({ topic, partition, state: 'live', view: current, expectedBaseOffset: end, liveBaseOffset });
      continue;
    }
    const kept = retained.get(key)?.get(end);
    if (kept) {
      uses.push({
        topic, partition, state: 'frozen', view: kept, expectedBaseOffset: end, liveBaseOffset,
        reason: current
          ? `the speed layer rebuilt this partition from offset ${current.baseOffset}; its view from ${end} is used, frozen, until the snapshot for the new horizon is served`
          : 'the partition was revoked from the speed source; its last view is used, frozen',
      });
      continue;
    }
    if (current) {
      uses.push({
        topic, partition, state: 'excluded', view: null, expectedBaseOffset: end, liveBaseOffset,
        reason: `the speed view starts at offset ${current.baseOffset} but snapshot v${snapshot.version} ends at ${end}; counted up to the snapshot only`,
      });
    }
  }
  uses.sort(compareTopicPartitions);
  return { snapshot, mode, partitions: uses };
}
