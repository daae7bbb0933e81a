// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrored by src/engine-js/sweep.ts.

import { FLAG_FREE, POLICY_SLOT_SIZE, SLOT_FLAGS } from "../src/core/layout";
import { dropProbability } from "./adaptive";
import { policyOf } from "./window";

/**
 * Brings every live slot in [first, end) up to `now` (folding pending successes, rolling windows)
 * and returns how many would drop the next call with a probability above 0. Slots are walked by
 * their policy's slot size; free slots are stepped over.
 */
export function countDropping(first: u32, end: u32, now: f64): u32 {
  let count: u32 = 0;
  let slot = first;
  while (slot < end) {
    const size = <u32>load<u16>(policyOf(slot) + POLICY_SLOT_SIZE);
    if ((load<u8>(slot + SLOT_FLAGS) & FLAG_FREE) == 0 && dropProbability(slot, now) > 0) count++;
    slot += size;
  }
  return count;
}
