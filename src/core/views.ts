// Typed views over a box's memory, and the readers of the layout that every floor above the
// engines uses: whoever needs a field of a slot, a record or a lock word asks here, by name, rather
// than indexing bytes itself. The engines read and write the same bytes with their own code
// (assembly/ and src/engine-js/); what is defined here is only how to *read* them.

import {
  FLAG_SHEDDING,
  MODE_DISABLED,
  MODE_FORCED_OPEN,
  MODE_METRICS_ONLY,
  POLICY_BUCKET_MS,
  POLICY_EPOCH,
  POLICY_RECORD_SIZE,
  POLICY_SLOT_SIZE,
  POLICY_TABLE_OFFSET,
  SLOT_FLAGS,
  SLOT_GEN,
  SLOT_LOCK_SIZE,
  SLOT_POLICY,
  STATS_CHANGED_AT,
  STATS_DISABLED,
  STATS_DROP_RATIO,
  STATS_DROPS,
  STATS_FAILURES,
  STATS_FORCED_OPEN,
  STATS_ISOLATED,
  STATS_METRICS_ONLY,
  STATS_RECORD_SIZE,
  STATS_REQUESTS,
  STATS_SLOT,
  STATS_SLOW,
  STATS_STATE,
  STATS_SUCCESSES,
  TS_CONSECUTIVE_FAILURES,
  TS_CONSECUTIVE_SUCCESSES,
  TS_EXCLUSIONS,
  TS_FAILURES,
  TS_ISOLATIONS,
  TS_MODE,
  TS_OPEN_UNTIL,
  TS_REQUESTS,
  TS_SLOW_CALLS,
  TS_STATE,
  TS_SUCCESSES,
} from "./layout.js";
import type { BreakerCounts, BreakerState, SlotStats } from "./types.js";

/** The four views every reader and both TypeScript-side writers index the memory through. */
export interface Views {
  buffer: ArrayBuffer | SharedArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  f64: Float64Array;
  /** Over a shared buffer only: the view `Atomics` works lock words through. */
  i32?: Int32Array | undefined;
  /** Over a shared buffer only: this thread's number in the box, which its lock words carry. */
  owner?: number | undefined;
}

/** Views over the whole of `buffer` (made again after every growth). */
export function view(buffer: ArrayBuffer | SharedArrayBuffer): Views {
  return {
    buffer,
    u8: new Uint8Array(buffer),
    u16: new Uint16Array(buffer),
    u32: new Uint32Array(buffer),
    f64: new Float64Array(buffer),
  };
}

/** A SharedArrayBuffer made with `maxByteLength` (ES2024; Node 20 and current browsers have it). */
export type GrowableSharedArrayBuffer = SharedArrayBuffer & {
  readonly maxByteLength: number;
  grow(bytes: number): void;
};

/**
 * Views of a fixed length over a shared buffer's first `byteLength` bytes. A view that tracks a
 * growable SharedArrayBuffer's length is ~20× slower to index in Node 20 (V8 does not optimise
 * it); a fixed one is as fast as any, and is made again when the memory has grown.
 */
export function fixedView(buffer: SharedArrayBuffer): Views {
  const length = buffer.byteLength;
  return {
    buffer,
    u8: new Uint8Array(buffer, 0, length),
    u16: new Uint16Array(buffer, 0, length >>> 1),
    u32: new Uint32Array(buffer, 0, length >>> 2),
    f64: new Float64Array(buffer, 0, length >>> 3),
    i32: new Int32Array(buffer, 0, length >>> 2),
  };
}

// ── Policy records ──────────────────────────────────────────────────────────────────────────────

/** Address of policy record `index`. */
export function recordAt(index: number): number {
  return POLICY_TABLE_OFFSET + index * POLICY_RECORD_SIZE;
}

/** Bytes one slot under policy record `index` takes (a shared box's lock word included). */
export function slotSizeOf(m: Views, index: number): number {
  return m.u16[(recordAt(index) + POLICY_SLOT_SIZE) >>> 1];
}

/**
 * Number of the bucket `now` falls in under the policy record at `record`:
 * floor((now − epoch) / bucketMs) mod 2^32. Times before the epoch, NaN and times past 2^53
 * buckets all map to bucket 0, which a slot reads as "no time passed". The engines' windows use
 * this very function (src/engine-js/window.ts; assembly/window.ts has its twin).
 */
export function bucketAt(m: Views, record: number, now: number): number {
  const elapsed =
    (now - m.f64[(record + POLICY_EPOCH) >>> 3]) / m.f64[(record + POLICY_BUCKET_MS) >>> 3];
  if (!(elapsed >= 0 && elapsed < 9007199254740992.0)) return 0;
  const whole = Math.floor(elapsed);
  return whole < 4294967296.0 ? whole : whole % 4294967296.0;
}

// ── Slots ───────────────────────────────────────────────────────────────────────────────────────

/** A slot's generation, which its permits carry. */
export function generationOf(m: Views, slot: number): number {
  return m.u16[(slot + SLOT_GEN) >>> 1];
}

/** Address of the lock word at the end of a shared box's slot. */
export function lockWordOf(m: Views, slot: number): number {
  return slot + slotSizeOf(m, m.u8[slot + SLOT_POLICY]) - SLOT_LOCK_SIZE;
}

/** The state names of a STATS_* code (its first three are STATE_*). */
export const STATE_NAMES: readonly BreakerState[] = [
  "closed",
  "open",
  "half-open",
  "forced-open",
  "disabled",
  "metrics-only",
  "isolated",
];

/**
 * What a three-state slot reports as its state, as a STATS_* code: an isolation or a manual mode
 * overrides the state machine's state. assembly/sweep.ts writes the same code into stats records.
 */
export function stateCodeOf(m: Views, slot: number): number {
  if (m.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0) return STATS_ISOLATED;
  const mode = m.u8[slot + TS_MODE];
  if (mode === MODE_FORCED_OPEN) return STATS_FORCED_OPEN;
  if (mode === MODE_DISABLED) return STATS_DISABLED;
  if (mode === MODE_METRICS_ONLY) return STATS_METRICS_ONLY;
  return m.u8[slot + TS_STATE];
}

/** An adaptive slot's state as last reported to listeners: 'open' while shedding (FLAG_SHEDDING). */
export function reportedShedding(m: Views, slot: number): BreakerState {
  return (m.u8[slot + SLOT_FLAGS] & FLAG_SHEDDING) !== 0 ? "open" : "closed";
}

/** The counts of a three-state slot (fold its pending successes first). */
export function countsOf(m: Views, slot: number): BreakerCounts {
  const u32 = m.u32;
  return {
    requests: u32[(slot + TS_REQUESTS) >>> 2],
    successes: u32[(slot + TS_SUCCESSES) >>> 2],
    failures: u32[(slot + TS_FAILURES) >>> 2],
    exclusions: u32[(slot + TS_EXCLUSIONS) >>> 2],
    slowCalls: u32[(slot + TS_SLOW_CALLS) >>> 2],
    consecutiveSuccesses: u32[(slot + TS_CONSECUTIVE_SUCCESSES) >>> 2],
    consecutiveFailures: u32[(slot + TS_CONSECUTIVE_FAILURES) >>> 2],
  };
}

/** Until when (ms) an open three-state slot stays open. */
export function openUntilOf(m: Views, slot: number): number {
  return m.f64[(slot + TS_OPEN_UNTIL) >>> 3];
}

/** Isolation handles open on a three-state slot. */
export function isolationsOf(m: Views, slot: number): number {
  return m.u32[(slot + TS_ISOLATIONS) >>> 2];
}

// ── Stats records ───────────────────────────────────────────────────────────────────────────────

/** The slot a stats record describes (records as a Float64Array, as the sweeps write them). */
export function statsSlot(records: Float64Array, index: number): number {
  return records[(index * STATS_RECORD_SIZE + STATS_SLOT) / 8];
}

/** Record `index` of a sweep's chunk, as figures; `adaptive` tells the kind of its slot. */
export function readStats(records: Float64Array, index: number, adaptive: boolean): SlotStats {
  const at = (index * STATS_RECORD_SIZE) / 8;
  return {
    policy: adaptive ? "adaptive" : "three-state",
    state: STATE_NAMES[records[at + STATS_STATE / 8]],
    requests: records[at + STATS_REQUESTS / 8],
    successes: records[at + STATS_SUCCESSES / 8],
    failures: records[at + STATS_FAILURES / 8],
    drops: records[at + STATS_DROPS / 8],
    slowCalls: records[at + STATS_SLOW / 8],
    dropRatio: records[at + STATS_DROP_RATIO / 8],
    changedAt: adaptive ? undefined : records[at + STATS_CHANGED_AT / 8],
  };
}

/** The figures of a stats record a live view compares: state, requests … changedAt. */
const WATCHED_FIELDS = [
  STATS_STATE,
  STATS_REQUESTS,
  STATS_SUCCESSES,
  STATS_FAILURES,
  STATS_DROPS,
  STATS_SLOW,
  STATS_DROP_RATIO,
  STATS_CHANGED_AT,
].map((offset) => offset / 8);
/** How many numbers takeChangedStats keeps per breaker. */
export const WATCHED_STATS = WATCHED_FIELDS.length;

/**
 * Whether record `index` of a sweep's chunk differs from the figures kept in `last` at `at`
 * (WATCHED_STATS numbers); if so, `last` takes the record's.
 */
export function takeChangedStats(
  records: Float64Array,
  index: number,
  last: Float64Array,
  at: number,
): boolean {
  const base = (index * STATS_RECORD_SIZE) / 8;
  let changed = false;
  for (let f = 0; f < WATCHED_STATS; f++) {
    const value = records[base + WATCHED_FIELDS[f]];
    if (!Object.is(value, last[at + f])) {
      last[at + f] = value;
      changed = true;
    }
  }
  return changed;
}
