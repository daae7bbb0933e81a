// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrors assembly/sweep.ts.

import { FLAG_FREE, POLICY_SLOT_SIZE, SLOT_FLAGS } from "../core/layout.js";
import { dropProbability } from "./adaptive.js";
import type { Views } from "./memory.js";
import { policyOf } from "./window.js";

/**
 * Brings every live slot in [first, end) up to `now` (folding pending successes, rolling windows)
 * and returns how many would drop the next call with a probability above 0. Slots are walked by
 * their policy's slot size; free slots are stepped over.
 */
export function countDropping(m: Views, first: number, end: number, now: number): number {
  let count = 0;
  let slot = first;
  while (slot < end) {
    const size = m.u16[(policyOf(m, slot) + POLICY_SLOT_SIZE) >>> 1];
    if ((m.u8[slot + SLOT_FLAGS] & FLAG_FREE) === 0 && dropProbability(m, slot, now) > 0) count++;
    slot += size;
  }
  return count;
}
