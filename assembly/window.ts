// The rolling window of an adaptive slot: `buckets` buckets of `bucketMs`, the newest at `offset`.
// Mirrored by src/engine-js/window.ts.
//
// Per-call work is O(1): a settlement bumps the current bucket and the running sums in the header.
// Only a roll (at most once per bucket period per slot) walks the ring, clearing expired buckets
// and re-deriving the sums and the two trailing runs from what is left.

import { saturate } from "./counter";
import {
  ADAPTIVE_HEADER_SIZE, BUCKET_DROP, BUCKET_FAILURE, BUCKET_SIZE, BUCKET_SUCCESS, POLICY_BUCKETS,
  POLICY_BUCKET_MS, POLICY_EPOCH, POLICY_RECORD_SIZE, POLICY_TABLE_OFFSET, SLOT_ACCEPTS, SLOT_BUCKET,
  SLOT_FAILING, SLOT_OFFSET, SLOT_PENDING, SLOT_POLICY, SLOT_TOTAL, SLOT_WORKING,
} from "../src/core/layout";

/** Address of the policy record a slot names. */
export function policyOf(slot: u32): u32 {
  return POLICY_TABLE_OFFSET + <u32>load<u8>(slot + SLOT_POLICY) * POLICY_RECORD_SIZE;
}

/**
 * Number of the bucket `now` falls in: floor((now − epoch) / bucketMs) mod 2^32. Times before the
 * epoch, NaN and times past 2^53 buckets all map to bucket 0, which a slot reads as "no time passed".
 */
export function bucketNumber(policy: u32, now: f64): u32 {
  const elapsed = (now - load<f64>(policy + POLICY_EPOCH)) / load<f64>(policy + POLICY_BUCKET_MS);
  if (!(elapsed >= 0 && elapsed < 9007199254740992.0)) return 0;
  const whole = Math.floor(elapsed);
  return <u32>(whole < 4294967296.0 ? whole : whole % 4294967296.0);
}

/** Address of the current (newest) bucket. */
export function currentBucket(slot: u32): u32 {
  return slot + ADAPTIVE_HEADER_SIZE + <u32>load<u8>(slot + SLOT_OFFSET) * BUCKET_SIZE;
}

/**
 * Moves a ring of `buckets` 12-byte buckets at `ring`, whose newest is at `offset`, to the bucket
 * of `now`: buckets that fell out are cleared (all of them after a gap of a whole window) and the
 * slot's bucket number updated. A clock that went back leaves it alone. Returns the new offset of
 * the newest bucket, or -1 when the ring did not move. Shared by every kind of slot.
 */
export function advance(slot: u32, policy: u32, now: f64, ring: u32, offset: u32): i32 {
  const current = bucketNumber(policy, now);
  const elapsed: u32 = current - load<u32>(slot + SLOT_BUCKET); // mod 2^32
  if (elapsed == 0 || elapsed >= 0x80000000) return -1;
  store<u32>(slot + SLOT_BUCKET, current);
  const buckets = <u32>load<u8>(policy + POLICY_BUCKETS);
  if (elapsed >= buckets) {
    memory.fill(ring, 0, buckets * BUCKET_SIZE);
    return <i32>offset;
  }
  for (let i: u32 = 0; i < elapsed; i++) {
    offset = offset + 1 == buckets ? 0 : offset + 1;
    memory.fill(ring + offset * BUCKET_SIZE, 0, BUCKET_SIZE);
  }
  return <i32>offset;
}

/**
 * Moves the adaptive window to `now` and, when it moved, re-derives the sums and runs.
 * Returns true when the window moved.
 */
export function roll(slot: u32, policy: u32, now: f64): bool {
  const offset = advance(slot, policy, now, slot + ADAPTIVE_HEADER_SIZE, <u32>load<u8>(slot + SLOT_OFFSET));
  if (offset < 0) return false;
  store<u8>(slot + SLOT_OFFSET, <u8>offset);
  summarize(slot, <u32>load<u8>(policy + POLICY_BUCKETS));
  return true;
}

/**
 * Re-derives total, accepts and the trailing runs by walking the ring oldest → newest, exactly as
 * go-zero's `history()` reduces its rolling window:
 *   working = run of buckets with success > 0 and failure = 0 since the last bucket with failures,
 *   failing = run of buckets with failure > 0 and success = 0 since the last bucket with successes.
 */
export function summarize(slot: u32, buckets: u32): void {
  const ring = slot + ADAPTIVE_HEADER_SIZE;
  let index = <u32>load<u8>(slot + SLOT_OFFSET);
  let total: u32 = 0;
  let accepts: u32 = 0;
  let working: u32 = 0;
  let failing: u32 = 0;
  for (let n: u32 = 0; n < buckets; n++) {
    index = index + 1 == buckets ? 0 : index + 1; // starts at the oldest, ends at the newest
    const bucket = ring + index * BUCKET_SIZE;
    const success = load<u32>(bucket + BUCKET_SUCCESS);
    const failure = load<u32>(bucket + BUCKET_FAILURE);
    accepts = saturate(accepts, success);
    total = saturate(saturate(saturate(total, success), failure), load<u32>(bucket + BUCKET_DROP));
    if (failure > 0) working = 0;
    else if (success > 0) working++;
    if (success > 0) failing = 0;
    else if (failure > 0) failing++;
  }
  store<u32>(slot + SLOT_TOTAL, total);
  store<u32>(slot + SLOT_ACCEPTS, accepts);
  store<u8>(slot + SLOT_WORKING, <u8>working);
  store<u8>(slot + SLOT_FAILING, <u8>failing);
}

/**
 * Counts outcomes in the current bucket, keeping the sums and runs without a walk: only the
 * newest bucket changes, so a run either grows by it or restarts at it.
 */
export function addSuccesses(slot: u32, count: u32): void {
  const bucket = currentBucket(slot);
  const success = load<u32>(bucket + BUCKET_SUCCESS);
  store<u32>(bucket + BUCKET_SUCCESS, saturate(success, count));
  store<u32>(slot + SLOT_ACCEPTS, saturate(load<u32>(slot + SLOT_ACCEPTS), count));
  store<u32>(slot + SLOT_TOTAL, saturate(load<u32>(slot + SLOT_TOTAL), count));
  if (success == 0) {
    store<u8>(slot + SLOT_FAILING, 0);
    if (load<u32>(bucket + BUCKET_FAILURE) == 0) {
      store<u8>(slot + SLOT_WORKING, load<u8>(slot + SLOT_WORKING) + 1);
    }
  }
}

export function addFailure(slot: u32): void {
  addFailures(slot, 1);
}

/** Counts `count` failures in the current bucket (a cluster's, merged at once). */
export function addFailures(slot: u32, count: u32): void {
  const bucket = currentBucket(slot);
  const failure = load<u32>(bucket + BUCKET_FAILURE);
  store<u32>(bucket + BUCKET_FAILURE, saturate(failure, count));
  store<u32>(slot + SLOT_TOTAL, saturate(load<u32>(slot + SLOT_TOTAL), count));
  if (failure == 0) {
    store<u8>(slot + SLOT_WORKING, 0);
    if (load<u32>(bucket + BUCKET_SUCCESS) == 0) {
      store<u8>(slot + SLOT_FAILING, load<u8>(slot + SLOT_FAILING) + 1);
    }
  }
}

/** A drop counts in total only; a bucket holding only drops is neutral for both runs. */
export function addDrop(slot: u32): void {
  const bucket = currentBucket(slot);
  store<u32>(bucket + BUCKET_DROP, saturate(load<u32>(bucket + BUCKET_DROP), 1));
  store<u32>(slot + SLOT_TOTAL, saturate(load<u32>(slot + SLOT_TOTAL), 1));
}

/**
 * Folds the successes the facade counted in `pending` into the current bucket. They were all
 * counted while the slot's bucket was the bucket of the time, so they belong to it, and this runs
 * before any roll. Returns true when there were any.
 */
export function foldPending(slot: u32): bool {
  const pending = <u32>load<u8>(slot + SLOT_PENDING);
  if (pending == 0) return false;
  store<u8>(slot + SLOT_PENDING, 0);
  addSuccesses(slot, pending);
  return true;
}
