// The window of a three-state slot: time buckets (Sentinel, resilience4j TIME_BASED) or the last
// N calls (resilience4j COUNT_BASED), or none. Mirrored by src/engine-js/tally.ts.

import { saturate } from "./counter";
import {
  CALL_FAILURE, CALL_SLOW, POLICY_BUCKETS, POLICY_WINDOW, POLICY_WINDOW_CALLS, SLOT_BUCKET, THREE_STATE_HEADER_SIZE,
  TS_BUCKET_FAILURES, TS_BUCKET_REQUESTS, TS_BUCKET_SIZE, TS_BUCKET_SLOW, TS_COUNT_FAILURES, TS_COUNT_FILLED,
  TS_COUNT_HEADER_SIZE, TS_COUNT_SLOW, TS_OFFSET, WINDOW_COUNT, WINDOW_TIME,
} from "../src/core/layout";
import { advance, bucketNumber } from "./window";

/** Bytes of a three-state window under `policy` (after the 64-byte header). */
export function tallySize(policy: u32): u32 {
  const window = load<u8>(policy + POLICY_WINDOW);
  if (window == WINDOW_TIME) return <u32>load<u8>(policy + POLICY_BUCKETS) * TS_BUCKET_SIZE;
  if (window == WINDOW_COUNT) return TS_COUNT_HEADER_SIZE + <u32>load<u16>(policy + POLICY_WINDOW_CALLS);
  return 0;
}

/**
 * Brings the slot's bucket number to `now` (the facade's fast path compares it for every kind)
 * and, for a time window, clears the buckets that fell out. Returns whether the window's sums
 * may have moved (a time window advanced).
 */
export function rollTally(slot: u32, policy: u32, now: f64): bool {
  if (load<u8>(policy + POLICY_WINDOW) == WINDOW_TIME) {
    const offset = advance(slot, policy, now, slot + THREE_STATE_HEADER_SIZE, <u32>load<u16>(slot + TS_OFFSET));
    if (offset < 0) return false;
    store<u16>(slot + TS_OFFSET, <u16>offset);
    return true;
  }
  const current = bucketNumber(policy, now);
  if (current - load<u32>(slot + SLOT_BUCKET) < 0x80000000) store<u32>(slot + SLOT_BUCKET, current);
  return false; // a count window's sums do not move with time
}

/** Adds `count` calls of the same kind (CALL_FAILURE and CALL_SLOW bits) to the window. */
export function tallyAdd(slot: u32, policy: u32, call: u32, count: u32): void {
  const window = load<u8>(policy + POLICY_WINDOW);
  const ring = slot + THREE_STATE_HEADER_SIZE;
  if (window == WINDOW_TIME) {
    const bucket = ring + <u32>load<u16>(slot + TS_OFFSET) * TS_BUCKET_SIZE;
    store<u32>(bucket + TS_BUCKET_REQUESTS, saturate(load<u32>(bucket + TS_BUCKET_REQUESTS), count));
    if ((call & CALL_FAILURE) != 0) store<u32>(bucket + TS_BUCKET_FAILURES, saturate(load<u32>(bucket + TS_BUCKET_FAILURES), count));
    if ((call & CALL_SLOW) != 0) store<u32>(bucket + TS_BUCKET_SLOW, saturate(load<u32>(bucket + TS_BUCKET_SLOW), count));
  } else if (window == WINDOW_COUNT) {
    const size = <u32>load<u16>(policy + POLICY_WINDOW_CALLS);
    const calls = ring + TS_COUNT_HEADER_SIZE;
    let next = <u32>load<u16>(slot + TS_OFFSET);
    for (let i: u32 = 0; i < count; i++) {
      const filled = load<u32>(ring + TS_COUNT_FILLED);
      if (filled == size) { // full: the oldest call, at `next`, leaves the window
        const old = <u32>load<u8>(calls + next);
        if ((old & CALL_FAILURE) != 0) store<u32>(ring + TS_COUNT_FAILURES, load<u32>(ring + TS_COUNT_FAILURES) - 1);
        if ((old & CALL_SLOW) != 0) store<u32>(ring + TS_COUNT_SLOW, load<u32>(ring + TS_COUNT_SLOW) - 1);
      } else {
        store<u32>(ring + TS_COUNT_FILLED, filled + 1); // ≤ windowCalls
      }
      store<u8>(calls + next, <u8>call);
      if ((call & CALL_FAILURE) != 0) store<u32>(ring + TS_COUNT_FAILURES, saturate(load<u32>(ring + TS_COUNT_FAILURES), 1));
      if ((call & CALL_SLOW) != 0) store<u32>(ring + TS_COUNT_SLOW, saturate(load<u32>(ring + TS_COUNT_SLOW), 1));
      next = next + 1 == size ? 0 : next + 1;
    }
    store<u16>(slot + TS_OFFSET, <u16>next);
  }
}

/**
 * A sum over the window: TS_BUCKET_REQUESTS, TS_BUCKET_FAILURES or TS_BUCKET_SLOW. A time window
 * is walked (it is only asked when a failure or slow call may trip the breaker); a count window
 * keeps running sums.
 */
export function tallySum(slot: u32, policy: u32, field: u32): u32 {
  const window = load<u8>(policy + POLICY_WINDOW);
  const ring = slot + THREE_STATE_HEADER_SIZE;
  if (window == WINDOW_TIME) {
    const buckets = <u32>load<u8>(policy + POLICY_BUCKETS);
    let sum: u32 = 0;
    for (let i: u32 = 0; i < buckets; i++) sum = saturate(sum, load<u32>(ring + i * TS_BUCKET_SIZE + field));
    return sum;
  }
  if (window == WINDOW_COUNT) {
    if (field == TS_BUCKET_REQUESTS) return load<u32>(ring + TS_COUNT_FILLED);
    return load<u32>(ring + (field == TS_BUCKET_FAILURES ? TS_COUNT_FAILURES : TS_COUNT_SLOW));
  }
  return 0;
}
