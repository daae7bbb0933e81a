// The rolling window of an adaptive slot: `buckets` buckets of `bucketMs`, the newest at `offset`.
// Mirrors assembly/window.ts.
//
// Per-call work is O(1): a settlement bumps the current bucket and the running sums in the header.
// Only a roll (at most once per bucket period per slot) walks the ring, clearing expired buckets
// and re-deriving the sums and the two trailing runs from what is left.

import { saturate } from "./counter.js";
import {
  ADAPTIVE_HEADER_SIZE, BUCKET_DROP, BUCKET_FAILURE, BUCKET_SIZE, BUCKET_SUCCESS, POLICY_BUCKETS,
  POLICY_RECORD_SIZE, POLICY_TABLE_OFFSET, SLOT_ACCEPTS, SLOT_BUCKET,
  SLOT_FAILING, SLOT_OFFSET, SLOT_PENDING, SLOT_POLICY, SLOT_TOTAL, SLOT_WORKING,
} from "../core/layout.js";
import { bucketAt, type Views } from "../core/views.js";

/** Address of the policy record a slot names. */
export function policyOf(m: Views, slot: number): number {
  return POLICY_TABLE_OFFSET + m.u8[slot + SLOT_POLICY] * POLICY_RECORD_SIZE;
}

/** Number of the bucket `now` falls in; the one definition is src/core/views.ts (bucketAt). */
export function bucketNumber(m: Views, policy: number, now: number): number {
  return bucketAt(m, policy, now);
}

/** Address of the current (newest) bucket. */
export function currentBucket(m: Views, slot: number): number {
  return slot + ADAPTIVE_HEADER_SIZE + m.u8[slot + SLOT_OFFSET] * BUCKET_SIZE;
}

/**
 * Moves a ring of `buckets` 12-byte buckets at `ring`, whose newest is at `offset`, to the bucket
 * of `now`: buckets that fell out are cleared (all of them after a gap of a whole window) and the
 * slot's bucket number updated. A clock that went back leaves it alone. Returns the new offset of
 * the newest bucket, or -1 when the ring did not move. Shared by every kind of slot.
 */
export function advance(m: Views, slot: number, policy: number, now: number, ring: number, offset: number): number {
  const current = bucketNumber(m, policy, now);
  const elapsed = (current - m.u32[(slot + SLOT_BUCKET) >>> 2]) >>> 0; // mod 2^32
  if (elapsed === 0 || elapsed >= 0x80000000) return -1;
  m.u32[(slot + SLOT_BUCKET) >>> 2] = current;
  const buckets = m.u8[policy + POLICY_BUCKETS];
  if (elapsed >= buckets) {
    m.u8.fill(0, ring, ring + buckets * BUCKET_SIZE);
    return offset;
  }
  for (let i = 0; i < elapsed; i++) {
    offset = offset + 1 === buckets ? 0 : offset + 1;
    m.u8.fill(0, ring + offset * BUCKET_SIZE, ring + offset * BUCKET_SIZE + BUCKET_SIZE);
  }
  return offset;
}

/**
 * Moves the adaptive window to `now` and, when it moved, re-derives the sums and runs.
 * Returns true when the window moved.
 */
export function roll(m: Views, slot: number, policy: number, now: number): boolean {
  const offset = advance(m, slot, policy, now, slot + ADAPTIVE_HEADER_SIZE, m.u8[slot + SLOT_OFFSET]);
  if (offset < 0) return false;
  m.u8[slot + SLOT_OFFSET] = offset;
  summarize(m, slot, m.u8[policy + POLICY_BUCKETS]);
  return true;
}

/**
 * Re-derives total, accepts and the trailing runs by walking the ring oldest → newest, exactly as
 * go-zero's `history()` reduces its rolling window:
 *   working = run of buckets with success > 0 and failure = 0 since the last bucket with failures,
 *   failing = run of buckets with failure > 0 and success = 0 since the last bucket with successes.
 */
export function summarize(m: Views, slot: number, buckets: number): void {
  const ring = slot + ADAPTIVE_HEADER_SIZE;
  let index = m.u8[slot + SLOT_OFFSET];
  let total = 0;
  let accepts = 0;
  let working = 0;
  let failing = 0;
  for (let n = 0; n < buckets; n++) {
    index = index + 1 === buckets ? 0 : index + 1; // starts at the oldest, ends at the newest
    const bucket = ring + index * BUCKET_SIZE;
    const success = m.u32[(bucket + BUCKET_SUCCESS) >>> 2];
    const failure = m.u32[(bucket + BUCKET_FAILURE) >>> 2];
    accepts = saturate(accepts, success);
    total = saturate(saturate(saturate(total, success), failure), m.u32[(bucket + BUCKET_DROP) >>> 2]);
    if (failure > 0) working = 0;
    else if (success > 0) working++;
    if (success > 0) failing = 0;
    else if (failure > 0) failing++;
  }
  m.u32[(slot + SLOT_TOTAL) >>> 2] = total;
  m.u32[(slot + SLOT_ACCEPTS) >>> 2] = accepts;
  m.u8[slot + SLOT_WORKING] = working;
  m.u8[slot + SLOT_FAILING] = failing;
}

/**
 * Counts outcomes in the current bucket, keeping the sums and runs without a walk: only the
 * newest bucket changes, so a run either grows by it or restarts at it.
 */
export function addSuccesses(m: Views, slot: number, count: number): void {
  const bucket = currentBucket(m, slot);
  const success = m.u32[(bucket + BUCKET_SUCCESS) >>> 2];
  m.u32[(bucket + BUCKET_SUCCESS) >>> 2] = saturate(success, count);
  m.u32[(slot + SLOT_ACCEPTS) >>> 2] = saturate(m.u32[(slot + SLOT_ACCEPTS) >>> 2], count);
  m.u32[(slot + SLOT_TOTAL) >>> 2] = saturate(m.u32[(slot + SLOT_TOTAL) >>> 2], count);
  if (success === 0) {
    m.u8[slot + SLOT_FAILING] = 0;
    if (m.u32[(bucket + BUCKET_FAILURE) >>> 2] === 0) {
      m.u8[slot + SLOT_WORKING] = m.u8[slot + SLOT_WORKING] + 1;
    }
  }
}

export function addFailure(m: Views, slot: number): void {
  addFailures(m, slot, 1);
}

/** Counts `count` failures in the current bucket (a cluster's, merged at once). */
export function addFailures(m: Views, slot: number, count: number): void {
  const bucket = currentBucket(m, slot);
  const failure = m.u32[(bucket + BUCKET_FAILURE) >>> 2];
  m.u32[(bucket + BUCKET_FAILURE) >>> 2] = saturate(failure, count);
  m.u32[(slot + SLOT_TOTAL) >>> 2] = saturate(m.u32[(slot + SLOT_TOTAL) >>> 2], count);
  if (failure === 0) {
    m.u8[slot + SLOT_WORKING] = 0;
    if (m.u32[(bucket + BUCKET_SUCCESS) >>> 2] === 0) {
      m.u8[slot + SLOT_FAILING] = m.u8[slot + SLOT_FAILING] + 1;
    }
  }
}

/** A drop counts in total only; a bucket holding only drops is neutral for both runs. */
export function addDrop(m: Views, slot: number): void {
  const bucket = currentBucket(m, slot);
  m.u32[(bucket + BUCKET_DROP) >>> 2] = saturate(m.u32[(bucket + BUCKET_DROP) >>> 2], 1);
  m.u32[(slot + SLOT_TOTAL) >>> 2] = saturate(m.u32[(slot + SLOT_TOTAL) >>> 2], 1);
}

/**
 * Folds the successes the facade counted in `pending` into the current bucket. They were all
 * counted while the slot's bucket was the bucket of the time, so they belong to it, and this runs
 * before any roll. Returns true when there were any.
 */
export function foldPending(m: Views, slot: number): boolean {
  const pending = m.u8[slot + SLOT_PENDING];
  if (pending === 0) return false;
  m.u8[slot + SLOT_PENDING] = 0;
  addSuccesses(m, slot, pending);
  return true;
}
