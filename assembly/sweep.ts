// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrored by src/engine-js/sweep.ts.

import {
  ADAPTIVE_HEADER_SIZE, BUCKET_DROP, BUCKET_FAILURE, BUCKET_SIZE, FLAG_FREE, KIND_ADAPTIVE, MODE_DISABLED,
  MODE_FORCED_OPEN, MODE_METRICS_ONLY, POLICY_BUCKETS, POLICY_KIND, POLICY_SLOT_SIZE, SLOT_ACCEPTS, SLOT_FLAGS,
  SLOT_TOTAL, STATE_CLOSED, STATE_OPEN, STATS_CHANGED_AT, STATS_DISABLED, STATS_DROPS, STATS_DROP_RATIO,
  STATS_FAILURES, STATS_FORCED_OPEN, STATS_ISOLATED, STATS_METRICS_ONLY, STATS_RECORD_SIZE, STATS_REQUESTS,
  STATS_SLOT, STATS_SLOW, STATS_STATE, STATS_SUCCESSES, TS_CHANGED_AT, TS_FAILURES, TS_ISOLATIONS, TS_MODE,
  TS_REQUESTS, TS_SLOW_CALLS, TS_STATE, TS_SUCCESSES,
} from "../src/core/layout";
import { dropProbability } from "./adaptive";
import { catchUp, rejecting } from "./three-state";
import { policyOf } from "./window";

/**
 * Brings every live slot in [first, end) up to `now` (folding pending successes, rolling windows;
 * no state changes) and returns how many would reject the next call: an adaptive slot whose drop
 * probability is above 0, a three-state slot that is open, forced open or isolated. Slots are
 * walked by their policy's slot size; free slots are stepped over.
 */
export function countDropping(first: u32, end: u32, now: f64): u32 {
  let count: u32 = 0;
  let slot = first;
  while (slot < end) {
    const policy = policyOf(slot);
    if ((load<u8>(slot + SLOT_FLAGS) & FLAG_FREE) == 0) {
      if (load<u8>(policy + POLICY_KIND) == KIND_ADAPTIVE) {
        if (dropProbability(slot, now) > 0) count++;
      } else {
        catchUp(slot, policy, now);
        if (rejecting(slot, now)) count++;
      }
    }
    slot += <u32>load<u16>(policy + POLICY_SLOT_SIZE);
  }
  return count;
}

/**
 * Writes a stats record (layout: STATS_*) for each live slot from `first` on, up to `max` records
 * at `out`, bringing each up to `now` on the way (no state changes). Returns how many it wrote;
 * `max` of them means there may be more: continue after the last record's slot.
 */
export function sweepStats(first: u32, end: u32, now: f64, out: u32, max: u32): u32 {
  let slot = first;
  let written: u32 = 0;
  while (slot < end && written < max) {
    const policy = policyOf(slot);
    if ((load<u8>(slot + SLOT_FLAGS) & FLAG_FREE) == 0) {
      const record = out + written * STATS_RECORD_SIZE;
      store<f64>(record + STATS_SLOT, <f64>slot);
      if (load<u8>(policy + POLICY_KIND) == KIND_ADAPTIVE) writeAdaptive(slot, policy, now, record);
      else writeThreeState(slot, policy, now, record);
      written++;
    }
    slot += <u32>load<u16>(policy + POLICY_SLOT_SIZE);
  }
  return written;
}

function writeAdaptive(slot: u32, policy: u32, now: f64, record: u32): void {
  const ratio = dropProbability(slot, now);
  const buckets = <u32>load<u8>(policy + POLICY_BUCKETS);
  let failures: u32 = 0;
  let drops: u32 = 0;
  for (let i: u32 = 0; i < buckets; i++) {
    const bucket = slot + ADAPTIVE_HEADER_SIZE + i * BUCKET_SIZE;
    failures += load<u32>(bucket + BUCKET_FAILURE);
    drops += load<u32>(bucket + BUCKET_DROP);
  }
  store<f64>(record + STATS_STATE, ratio > 0 ? <f64>STATE_OPEN : <f64>STATE_CLOSED);
  store<f64>(record + STATS_REQUESTS, <f64>load<u32>(slot + SLOT_TOTAL));
  store<f64>(record + STATS_SUCCESSES, <f64>load<u32>(slot + SLOT_ACCEPTS));
  store<f64>(record + STATS_FAILURES, <f64>failures);
  store<f64>(record + STATS_DROPS, <f64>drops);
  store<f64>(record + STATS_SLOW, 0);
  store<f64>(record + STATS_DROP_RATIO, ratio);
  store<f64>(record + STATS_CHANGED_AT, NaN);
}

function writeThreeState(slot: u32, policy: u32, now: f64, record: u32): void {
  catchUp(slot, policy, now);
  const mode = load<u8>(slot + TS_MODE);
  let state = <f64>load<u8>(slot + TS_STATE);
  if (load<u32>(slot + TS_ISOLATIONS) != 0) state = STATS_ISOLATED;
  else if (mode == MODE_FORCED_OPEN) state = STATS_FORCED_OPEN;
  else if (mode == MODE_DISABLED) state = STATS_DISABLED;
  else if (mode == MODE_METRICS_ONLY) state = STATS_METRICS_ONLY;
  store<f64>(record + STATS_STATE, state);
  store<f64>(record + STATS_REQUESTS, <f64>load<u32>(slot + TS_REQUESTS));
  store<f64>(record + STATS_SUCCESSES, <f64>load<u32>(slot + TS_SUCCESSES));
  store<f64>(record + STATS_FAILURES, <f64>load<u32>(slot + TS_FAILURES));
  store<f64>(record + STATS_DROPS, 0);
  store<f64>(record + STATS_SLOW, <f64>load<u32>(slot + TS_SLOW_CALLS));
  store<f64>(record + STATS_DROP_RATIO, rejecting(slot, now) ? 1 : 0);
  store<f64>(record + STATS_CHANGED_AT, load<f64>(slot + TS_CHANGED_AT));
}
