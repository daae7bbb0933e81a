// Operations on a slot of any kind: one boundary crossing, the core picks the policy by its kind.
// Mirrors assembly/slot.ts.

import { KIND_ADAPTIVE, POLICY_KIND } from "../core/layout.js";
import { allowAdaptive, mergeAdaptive, recordAdaptive } from "./adaptive.js";
import type { Views } from "../core/views.js";
import { allowThreeState, mergeThreeState, recordThreeState } from "./three-state.js";
import { policyOf } from "./window.js";

/** Decides one call on a slot of any kind; see allowAdaptive and allowThreeState. */
export function allow(m: Views, slot: number, now: number): number {
  if (m.u8[policyOf(m, slot) + POLICY_KIND] === KIND_ADAPTIVE) return allowAdaptive(m, slot, now);
  return allowThreeState(m, slot, now);
}

/** Settles one permit on a slot of any kind; returns CHANGED when the slot moved (an adaptive one: started or stopped shedding). */
export function record(m: Views, slot: number, generation: number, outcome: number, durationMs: number, now: number): number {
  if (m.u8[policyOf(m, slot) + POLICY_KIND] === KIND_ADAPTIVE) {
    return recordAdaptive(m, slot, generation, outcome, now);
  }
  return recordThreeState(m, slot, generation, outcome, durationMs, now);
}

/** Counts calls made elsewhere on a slot of any kind (mergeAdaptive, mergeThreeState); CHANGED or 0. */
export function merge(m: Views, slot: number, successes: number, failures: number, now: number): number {
  if (m.u8[policyOf(m, slot) + POLICY_KIND] === KIND_ADAPTIVE) return mergeAdaptive(m, slot, successes, failures, now);
  return mergeThreeState(m, slot, successes, failures, now);
}
