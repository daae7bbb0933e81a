// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrors assembly/sweep.ts.

import {
  ADAPTIVE_HEADER_SIZE, BUCKET_DROP, BUCKET_FAILURE, BUCKET_SIZE, FLAG_FREE, KIND_ADAPTIVE, MODE_DISABLED,
  MODE_FORCED_OPEN, MODE_METRICS_ONLY, POLICY_BUCKETS, POLICY_KIND, POLICY_SLOT_SIZE, SLOT_ACCEPTS, SLOT_FLAGS,
  SLOT_TOTAL, STATE_CLOSED, STATE_OPEN, STATS_CHANGED_AT, STATS_DISABLED, STATS_DROPS, STATS_DROP_RATIO,
  STATS_FAILURES, STATS_FORCED_OPEN, STATS_ISOLATED, STATS_METRICS_ONLY, STATS_RECORD_SIZE, STATS_REQUESTS,
  STATS_SLOT, STATS_SLOW, STATS_STATE, STATS_SUCCESSES, TS_CHANGED_AT, TS_FAILURES, TS_ISOLATIONS, TS_MODE,
  TS_REQUESTS, TS_SLOW_CALLS, TS_STATE, TS_SUCCESSES,
} from "../core/layout.js";
import { dropProbability } from "./adaptive.js";
import type { Views } from "../core/views.js";
import { catchUp, rejecting } from "./three-state.js";
import { policyOf } from "./window.js";

/**
 * Brings every live slot in [first, end) up to `now` (folding pending successes, rolling windows;
 * no state changes) and returns how many would reject the next call: an adaptive slot whose drop
 * probability is above 0, a three-state slot that is open, forced open or isolated. Slots are
 * walked by their policy's slot size; free slots are stepped over.
 */
export function countDropping(m: Views, first: number, end: number, now: number): number {
  let count = 0;
  let slot = first;
  while (slot < end) {
    const policy = policyOf(m, slot);
    if ((m.u8[slot + SLOT_FLAGS] & FLAG_FREE) === 0) {
      if (m.u8[policy + POLICY_KIND] === KIND_ADAPTIVE) {
        if (dropProbability(m, slot, now) > 0) count++;
      } else {
        catchUp(m, slot, policy, now);
        if (rejecting(m, slot, now)) count++;
      }
    }
    slot += m.u16[(policy + POLICY_SLOT_SIZE) >>> 1];
  }
  return count;
}

/**
 * Writes a stats record (layout: STATS_*) for each live slot from `first` on, up to `max` records
 * at `out`, bringing each up to `now` on the way (no state changes). Returns how many it wrote;
 * `max` of them means there may be more: continue after the last record's slot.
 */
export function sweepStats(m: Views, first: number, end: number, now: number, out: number, max: number): number {
  let slot = first;
  let written = 0;
  while (slot < end && written < max) {
    const policy = policyOf(m, slot);
    if ((m.u8[slot + SLOT_FLAGS] & FLAG_FREE) === 0) {
      const record = out + written * STATS_RECORD_SIZE;
      m.f64[(record + STATS_SLOT) >>> 3] = slot;
      if (m.u8[policy + POLICY_KIND] === KIND_ADAPTIVE) writeAdaptive(m, slot, policy, now, record);
      else writeThreeState(m, slot, policy, now, record);
      written++;
    }
    slot += m.u16[(policy + POLICY_SLOT_SIZE) >>> 1];
  }
  return written;
}

function writeAdaptive(m: Views, slot: number, policy: number, now: number, record: number): void {
  const ratio = dropProbability(m, slot, now);
  const buckets = m.u8[policy + POLICY_BUCKETS];
  let failures = 0;
  let drops = 0;
  for (let i = 0; i < buckets; i++) {
    const bucket = slot + ADAPTIVE_HEADER_SIZE + i * BUCKET_SIZE;
    failures = (failures + m.u32[(bucket + BUCKET_FAILURE) >>> 2]) >>> 0;
    drops = (drops + m.u32[(bucket + BUCKET_DROP) >>> 2]) >>> 0;
  }
  m.f64[(record + STATS_STATE) >>> 3] = ratio > 0 ? STATE_OPEN : STATE_CLOSED;
  m.f64[(record + STATS_REQUESTS) >>> 3] = m.u32[(slot + SLOT_TOTAL) >>> 2];
  m.f64[(record + STATS_SUCCESSES) >>> 3] = m.u32[(slot + SLOT_ACCEPTS) >>> 2];
  m.f64[(record + STATS_FAILURES) >>> 3] = failures;
  m.f64[(record + STATS_DROPS) >>> 3] = drops;
  m.f64[(record + STATS_SLOW) >>> 3] = 0;
  m.f64[(record + STATS_DROP_RATIO) >>> 3] = ratio;
  m.f64[(record + STATS_CHANGED_AT) >>> 3] = NaN;
}

function writeThreeState(m: Views, slot: number, policy: number, now: number, record: number): void {
  catchUp(m, slot, policy, now);
  const mode = m.u8[slot + TS_MODE];
  let state = m.u8[slot + TS_STATE];
  if (m.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0) state = STATS_ISOLATED;
  else if (mode === MODE_FORCED_OPEN) state = STATS_FORCED_OPEN;
  else if (mode === MODE_DISABLED) state = STATS_DISABLED;
  else if (mode === MODE_METRICS_ONLY) state = STATS_METRICS_ONLY;
  m.f64[(record + STATS_STATE) >>> 3] = state;
  m.f64[(record + STATS_REQUESTS) >>> 3] = m.u32[(slot + TS_REQUESTS) >>> 2];
  m.f64[(record + STATS_SUCCESSES) >>> 3] = m.u32[(slot + TS_SUCCESSES) >>> 2];
  m.f64[(record + STATS_FAILURES) >>> 3] = m.u32[(slot + TS_FAILURES) >>> 2];
  m.f64[(record + STATS_DROPS) >>> 3] = 0;
  m.f64[(record + STATS_SLOW) >>> 3] = m.u32[(slot + TS_SLOW_CALLS) >>> 2];
  m.f64[(record + STATS_DROP_RATIO) >>> 3] = rejecting(m, slot, now) ? 1 : 0;
  m.f64[(record + STATS_CHANGED_AT) >>> 3] = m.f64[(slot + TS_CHANGED_AT) >>> 3];
}
