// Whole slots in and out of a store: the stats sweep in chunks, and a slot's bytes for snapshots.

import {
  FLAG_FREE,
  FLAG_PASS,
  KIND_ADAPTIVE,
  SLOT_ALIGN,
  SLOT_BUCKET,
  SLOT_FLAGS,
  SLOT_GEN,
  SLOT_PENDING,
  SLOT_POLICY,
  STATS_RECORD_SIZE,
  TS_IN_FLIGHT,
} from "../core/layout.js";
import type { SlotStats } from "../core/types.js";
import { isolationsOf, readStats, statsSlot } from "../core/views.js";
import type { Store } from "./store.js";

/**
 * Sweeps every live slot in chunks, written by the core into the space's stats scratch, and
 * hands each chunk to `visit(records, count)` (see `statsSlot` and `statsAt`); the records are
 * valid only during the call.
 */
export function sweepStats(
  store: Store,
  visit: (records: Float64Array, count: number) => void,
): void {
  const chunk = store.space.statsChunk;
  const out = store.space.statsScratch(store, chunk * STATS_RECORD_SIZE);
  const end = store.space.slotsEnd(store);
  const now = store.now();
  const records = new Float64Array(store.buffer, out, (chunk * STATS_RECORD_SIZE) / 8);
  let first = store.space.slotsStart(store);
  for (;;) {
    const count = store.core.sweepStats(first, end, now, out, chunk);
    if (count > 0) visit(records, count);
    if (count < chunk) return;
    const last = statsSlot(records, count - 1);
    first = last + store.slotSize(store.u8[last + SLOT_POLICY]);
  }
}

/** Record `index` of a sweep's chunk, as figures. */
export function statsAt(store: Store, records: Float64Array, index: number): SlotStats {
  return readStats(records, index, store.kindOf(statsSlot(records, index)) === KIND_ADAPTIVE);
}

/** Bytes of a slot a snapshot holds: all of it but a shared box's lock word. */
export function snapshotSize(store: Store, slot: number): number {
  return store.slotSize(store.u8[slot + SLOT_POLICY]) - store.lockBytes;
}

/**
 * Whether a snapshot of `length` bytes fits a slot whose snapshot size is `size`: a shared box's
 * slots are longer by a lock word, and so padded otherwise; the bytes past the policy's own are
 * zero either way, so snapshots travel between shared and unshared boxes.
 */
export function fitsSlot(length: number, size: number): boolean {
  return Math.abs(length - size) < SLOT_ALIGN;
}

/** A copy of a slot's bytes, brought up to `now` first (no state change). */
export function readSlot(store: Store, slot: number, now: number): Uint8Array {
  store.catchUp(slot, now);
  return new Uint8Array(store.buffer, slot, snapshotSize(store, slot)).slice();
}

/**
 * Writes a snapshot's bytes into `slot`, freshly made under the snapshot's policy, whose window
 * last moved `elapsedBuckets` buckets ago. The slot keeps its own policy index and generation
 * (permits of the old breaker settle nothing) and no isolation handles (they do not travel).
 */
export function writeSlot(
  store: Store,
  slot: number,
  bytes: Uint8Array,
  elapsedBuckets: number,
): void {
  const policyIndex = store.u8[slot + SLOT_POLICY];
  const generation = store.u16[(slot + SLOT_GEN) >>> 1];
  const current = store.u32[(slot + SLOT_BUCKET) >>> 2];
  store.u8.set(bytes.subarray(0, snapshotSize(store, slot)), slot);
  store.u8[slot + SLOT_POLICY] = policyIndex;
  store.u16[(slot + SLOT_GEN) >>> 1] = generation;
  // Free no more; and an adaptive slot's pass flag is left for the core to set again, since a
  // snapshot's could say "pass" for a window that drops (the fast path then asks the core).
  store.u8[slot + SLOT_FLAGS] &=
    store.kindOf(slot) === KIND_ADAPTIVE ? ~(FLAG_FREE | FLAG_PASS) : ~FLAG_FREE;
  store.u8[slot + SLOT_PENDING] = 0;
  store.u32[(slot + SLOT_BUCKET) >>> 2] = (current - Math.min(elapsedBuckets, 0x7fffffff)) >>> 0;
  if (store.kindOf(slot) !== KIND_ADAPTIVE) {
    store.u16[(slot + TS_IN_FLIGHT) >>> 1] = 0; // its probes were another process's: none is out here
    store.core.isolate(slot, -isolationsOf(store, slot));
  }
}
