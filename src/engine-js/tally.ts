// The window of a three-state slot: time buckets (Sentinel, resilience4j TIME_BASED) or the last
// N calls (resilience4j COUNT_BASED), or none. Mirrors assembly/tally.ts.

import { saturate } from "./counter.js";
import {
  CALL_FAILURE, CALL_SLOW, POLICY_BUCKETS, POLICY_WINDOW, POLICY_WINDOW_CALLS, SLOT_BUCKET, THREE_STATE_HEADER_SIZE,
  TS_BUCKET_FAILURES, TS_BUCKET_REQUESTS, TS_BUCKET_SIZE, TS_BUCKET_SLOW, TS_COUNT_FAILURES, TS_COUNT_FILLED,
  TS_COUNT_HEADER_SIZE, TS_COUNT_SLOW, TS_OFFSET, WINDOW_COUNT, WINDOW_TIME,
} from "../core/layout.js";
import type { Views } from "../core/views.js";
import { advance, bucketNumber } from "./window.js";

/** Bytes of a three-state window under `policy` (after the 64-byte header). */
export function tallySize(m: Views, policy: number): number {
  const window = m.u8[policy + POLICY_WINDOW];
  if (window === WINDOW_TIME) return m.u8[policy + POLICY_BUCKETS] * TS_BUCKET_SIZE;
  if (window === WINDOW_COUNT) return TS_COUNT_HEADER_SIZE + m.u16[(policy + POLICY_WINDOW_CALLS) >>> 1];
  return 0;
}

/**
 * Brings the slot's bucket number to `now` (the facade's fast path compares it for every kind)
 * and, for a time window, clears the buckets that fell out. Returns whether the window's sums
 * may have moved (a time window advanced).
 */
export function rollTally(m: Views, slot: number, policy: number, now: number): boolean {
  if (m.u8[policy + POLICY_WINDOW] === WINDOW_TIME) {
    const offset = advance(m, slot, policy, now, slot + THREE_STATE_HEADER_SIZE, m.u16[(slot + TS_OFFSET) >>> 1]);
    if (offset < 0) return false;
    m.u16[(slot + TS_OFFSET) >>> 1] = offset;
    return true;
  }
  const current = bucketNumber(m, policy, now);
  if (((current - m.u32[(slot + SLOT_BUCKET) >>> 2]) >>> 0) < 0x80000000) m.u32[(slot + SLOT_BUCKET) >>> 2] = current;
  return false; // a count window's sums do not move with time
}

/** Adds `count` calls of the same kind (CALL_FAILURE and CALL_SLOW bits) to the window. */
export function tallyAdd(m: Views, slot: number, policy: number, call: number, count: number): void {
  const window = m.u8[policy + POLICY_WINDOW];
  const ring = slot + THREE_STATE_HEADER_SIZE;
  if (window === WINDOW_TIME) {
    const bucket = ring + m.u16[(slot + TS_OFFSET) >>> 1] * TS_BUCKET_SIZE;
    m.u32[(bucket + TS_BUCKET_REQUESTS) >>> 2] = saturate(m.u32[(bucket + TS_BUCKET_REQUESTS) >>> 2], count);
    if ((call & CALL_FAILURE) !== 0) m.u32[(bucket + TS_BUCKET_FAILURES) >>> 2] = saturate(m.u32[(bucket + TS_BUCKET_FAILURES) >>> 2], count);
    if ((call & CALL_SLOW) !== 0) m.u32[(bucket + TS_BUCKET_SLOW) >>> 2] = saturate(m.u32[(bucket + TS_BUCKET_SLOW) >>> 2], count);
  } else if (window === WINDOW_COUNT) {
    const size = m.u16[(policy + POLICY_WINDOW_CALLS) >>> 1];
    const calls = ring + TS_COUNT_HEADER_SIZE;
    let next = m.u16[(slot + TS_OFFSET) >>> 1];
    for (let i = 0; i < count; i++) {
      const filled = m.u32[(ring + TS_COUNT_FILLED) >>> 2];
      if (filled === size) { // full: the oldest call, at `next`, leaves the window
        const old = m.u8[calls + next];
        if ((old & CALL_FAILURE) !== 0) m.u32[(ring + TS_COUNT_FAILURES) >>> 2] = m.u32[(ring + TS_COUNT_FAILURES) >>> 2] - 1;
        if ((old & CALL_SLOW) !== 0) m.u32[(ring + TS_COUNT_SLOW) >>> 2] = m.u32[(ring + TS_COUNT_SLOW) >>> 2] - 1;
      } else {
        m.u32[(ring + TS_COUNT_FILLED) >>> 2] = filled + 1; // ≤ windowCalls
      }
      m.u8[calls + next] = call;
      if ((call & CALL_FAILURE) !== 0) m.u32[(ring + TS_COUNT_FAILURES) >>> 2] = saturate(m.u32[(ring + TS_COUNT_FAILURES) >>> 2], 1);
      if ((call & CALL_SLOW) !== 0) m.u32[(ring + TS_COUNT_SLOW) >>> 2] = saturate(m.u32[(ring + TS_COUNT_SLOW) >>> 2], 1);
      next = next + 1 === size ? 0 : next + 1;
    }
    m.u16[(slot + TS_OFFSET) >>> 1] = next;
  }
}

/**
 * A sum over the window: TS_BUCKET_REQUESTS, TS_BUCKET_FAILURES or TS_BUCKET_SLOW. A time window
 * is walked (it is only asked when a failure or slow call may trip the breaker); a count window
 * keeps running sums.
 */
export function tallySum(m: Views, slot: number, policy: number, field: number): number {
  const window = m.u8[policy + POLICY_WINDOW];
  const ring = slot + THREE_STATE_HEADER_SIZE;
  if (window === WINDOW_TIME) {
    const buckets = m.u8[policy + POLICY_BUCKETS];
    let sum = 0;
    for (let i = 0; i < buckets; i++) sum = saturate(sum, m.u32[(ring + i * TS_BUCKET_SIZE + field) >>> 2]);
    return sum;
  }
  if (window === WINDOW_COUNT) {
    if (field === TS_BUCKET_REQUESTS) return m.u32[(ring + TS_COUNT_FILLED) >>> 2];
    return m.u32[(ring + (field === TS_BUCKET_FAILURES ? TS_COUNT_FAILURES : TS_COUNT_SLOW)) >>> 2];
  }
  return 0;
}
