// Whole-box sweeps: one call walks every slot, where the core wins over per-slot calls from JS.
// Mirrors assembly/sweep.ts.

import { FLAG_FREE, KIND_ADAPTIVE, POLICY_KIND, POLICY_SLOT_SIZE, SLOT_FLAGS } from "../core/layout.js";
import { dropProbability } from "./adaptive.js";
import type { Views } from "./memory.js";
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
