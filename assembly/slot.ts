// Operations on a slot of any kind: one boundary crossing, the core picks the policy by its kind.
// Mirrored by src/engine-js/slot.ts.

import { KIND_ADAPTIVE, POLICY_KIND } from "../src/core/layout";
import { allowAdaptive, mergeAdaptive, recordAdaptive } from "./adaptive";
import { allowThreeState, mergeThreeState, recordThreeState } from "./three-state";
import { policyOf } from "./window";

/** Decides one call on a slot of any kind; see allowAdaptive and allowThreeState. */
export function allow(slot: u32, now: f64): i32 {
  if (load<u8>(policyOf(slot) + POLICY_KIND) == KIND_ADAPTIVE) return allowAdaptive(slot, now);
  return allowThreeState(slot, now);
}

/** Settles one permit on a slot of any kind; returns CHANGED when the slot moved (an adaptive one: started or stopped shedding). */
export function record(slot: u32, generation: u32, outcome: u32, durationMs: f64, now: f64): i32 {
  if (load<u8>(policyOf(slot) + POLICY_KIND) == KIND_ADAPTIVE) {
    return recordAdaptive(slot, generation, outcome, now);
  }
  return recordThreeState(slot, generation, outcome, durationMs, now);
}

/** Counts calls made elsewhere on a slot of any kind (mergeAdaptive, mergeThreeState); CHANGED or 0. */
export function merge(slot: u32, successes: u32, failures: u32, now: f64): i32 {
  if (load<u8>(policyOf(slot) + POLICY_KIND) == KIND_ADAPTIVE) return mergeAdaptive(slot, successes, failures, now);
  return mergeThreeState(slot, successes, failures, now);
}
