// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrored by src/engine-js/sweep.ts.

import { FLAG_FREE, KIND_ADAPTIVE, POLICY_KIND, POLICY_SLOT_SIZE, SLOT_FLAGS } from "../src/core/layout";
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
