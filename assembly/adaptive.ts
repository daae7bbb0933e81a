// The adaptive policy: Google SRE client-side throttling as go-zero's `core/breaker` implements it.
// Mirrored by src/engine-js/adaptive.ts.

import {
  ADAPTIVE_HEADER_SIZE, BUCKET_SIZE, CHANGED, CHANGED_FROM_SHIFT, CHANGED_TO_SHIFT, DECISION_DROP, DECISION_PASS, FLAG_LAST_PASS, FLAG_PASS, FLAG_SHEDDING,
  STATE_CLOSED, STATE_OPEN,
  OUTCOME_FAILURE, OUTCOME_SUCCESS, POLICY_BUCKETS, POLICY_FORCE_PASS_MS, POLICY_K, POLICY_MIN_K,
  POLICY_OUTAGE_BUCKETS, POLICY_PROTECTION, POLICY_RECORD_SIZE, POLICY_RECOVERY, RECOVERY_FAST, POLICY_TABLE_OFFSET, SLOT_ACCEPTS, SLOT_BUCKET, SLOT_FAILING,
  SLOT_FLAGS, SLOT_GEN, SLOT_LAST_PASS, SLOT_POLICY, SLOT_RNG, SLOT_TOTAL, SLOT_WORKING,
} from "../src/core/layout";
import { draw, seedState } from "./random";
import { addDrop, addFailure, addFailures, addSuccesses, bucketNumber, foldPending, policyOf, roll } from "./window";

/**
 * (Re)initialises an adaptive slot under policy record `policyIndex`: an empty window whose current
 * bucket is the one `now` falls in. The generation goes up by one, so permits issued to an earlier
 * occupant of the slot settle nothing.
 */
export function initAdaptive(slot: u32, policyIndex: u32, seed: u32, now: f64): void {
  const policy = POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE;
  const generation = load<u16>(slot + SLOT_GEN) + 1;
  memory.fill(slot, 0, ADAPTIVE_HEADER_SIZE + <u32>load<u8>(policy + POLICY_BUCKETS) * BUCKET_SIZE);
  store<u8>(slot + SLOT_POLICY, <u8>policyIndex);
  store<u16>(slot + SLOT_GEN, generation);
  store<u32>(slot + SLOT_RNG, seedState(seed));
  store<u32>(slot + SLOT_BUCKET, bucketNumber(policy, now));
  updatePass(slot, policy);
}

/**
 * go-zero's drop ratio before the working-bucket discount, from the window sums:
 *
 *   w     = max(minK, k − (k − minK) · failing / buckets)      k decays 1.5 → 1.1 over failing buckets
 *   ratio = (total − protection − w · accepts) / (total + 1)   SRE book, eq. 21-1, with protection
 *
 * ratio ≤ 0 means "pass"; the operand order matches go-zero so the floats agree bit for bit.
 */
export function rawDropRatio(slot: u32, policy: u32): f64 {
  const k = load<f64>(policy + POLICY_K);
  const minK = load<f64>(policy + POLICY_MIN_K);
  const buckets = <f64>load<u8>(policy + POLICY_BUCKETS);
  let w = k - (k - minK) * <f64>load<u8>(slot + SLOT_FAILING) / buckets;
  if (w < minK) w = minK;
  const total = <f64>load<u32>(slot + SLOT_TOTAL);
  const accepts = <f64>load<u32>(slot + SLOT_ACCEPTS);
  return (total - load<f64>(policy + POLICY_PROTECTION) - w * accepts) / (total + 1);
}

/**
 * Whether a RECOVERY_FAST policy sees an outage: a trailing run of at least `outageBuckets`
 * failure-only buckets in a window of more than `protection` requests.
 */
export function inOutage(slot: u32, policy: u32): bool {
  return load<u8>(policy + POLICY_RECOVERY) == RECOVERY_FAST
    && load<u8>(slot + SLOT_FAILING) >= load<u8>(policy + POLICY_OUTAGE_BUCKETS)
    && <f64>load<u32>(slot + SLOT_TOTAL) > load<f64>(policy + POLICY_PROTECTION);
}

/** Keeps FLAG_PASS equal to (rawDropRatio ≤ 0 and no outage); called after every change to the window. */
export function updatePass(slot: u32, policy: u32): void {
  const flags = load<u8>(slot + SLOT_FLAGS);
  const passes = rawDropRatio(slot, policy) <= 0 && !inOutage(slot, policy);
  store<u8>(slot + SLOT_FLAGS, passes ? flags | FLAG_PASS : flags & ~FLAG_PASS);
}

/**
 * Decides one call (go-zero `accept()` followed by `markDrop()` on a drop):
 *   ratio ≤ 0                                  → pass (lastPass untouched)
 *   a draw passed once and > forcePassMs since → pass, lastPass = now (at least one probe a second)
 *   else ratio ·= (buckets − working) / buckets, drop iff draw < ratio (the drop is counted at once),
 *   and a pass from the draw sets lastPass = now.
 */
export function allowAdaptive(slot: u32, now: f64): i32 {
  return decideAdaptive(slot, now) | reportShedding(slot);
}

/**
 * CHANGED (closed → open, or open → closed) when shedding started or stopped since it was last
 * reported (FLAG_SHEDDING), else 0.
 */
export function reportShedding(slot: u32): i32 {
  const flags = <u32>load<u8>(slot + SLOT_FLAGS);
  const shedding = (flags & FLAG_PASS) == 0;
  if (shedding == ((flags & FLAG_SHEDDING) != 0)) return 0;
  store<u8>(slot + SLOT_FLAGS, <u8>(shedding ? flags | FLAG_SHEDDING : flags & ~FLAG_SHEDDING));
  const from = shedding ? STATE_CLOSED : STATE_OPEN;
  const to = shedding ? STATE_OPEN : STATE_CLOSED;
  return CHANGED | (from << CHANGED_FROM_SHIFT) | (to << CHANGED_TO_SHIFT);
}

/** allowAdaptive before the report. */
export function decideAdaptive(slot: u32, now: f64): i32 {
  const policy = policyOf(slot);
  const folded = foldPending(slot);
  if (roll(slot, policy, now) || folded) updatePass(slot, policy);
  const flags = load<u8>(slot + SLOT_FLAGS);
  if (inOutage(slot, policy)) {
    // Probes only, the first at once; a drop in an outage is not counted (RECOVERY_FAST).
    if ((flags & FLAG_LAST_PASS) != 0 && !(now - load<f64>(slot + SLOT_LAST_PASS) > load<f64>(policy + POLICY_FORCE_PASS_MS))) {
      return DECISION_DROP;
    }
    store<f64>(slot + SLOT_LAST_PASS, now);
    store<u8>(slot + SLOT_FLAGS, flags | FLAG_LAST_PASS);
    return DECISION_PASS;
  }
  let ratio = rawDropRatio(slot, policy);
  if (ratio <= 0) return DECISION_PASS;
  if ((flags & FLAG_LAST_PASS) != 0
    && now - load<f64>(slot + SLOT_LAST_PASS) > load<f64>(policy + POLICY_FORCE_PASS_MS)) {
    store<f64>(slot + SLOT_LAST_PASS, now);
    return DECISION_PASS;
  }
  const buckets = <u32>load<u8>(policy + POLICY_BUCKETS);
  ratio *= <f64>(buckets - <u32>load<u8>(slot + SLOT_WORKING)) / <f64>buckets;
  if (draw(slot) < ratio) {
    addDrop(slot); // the ratio only grows, so FLAG_PASS stays clear
    return DECISION_DROP;
  }
  store<f64>(slot + SLOT_LAST_PASS, now);
  store<u8>(slot + SLOT_FLAGS, flags | FLAG_LAST_PASS);
  return DECISION_PASS;
}

/**
 * Settles one permit. A generation other than the slot's (the slot was reset or reused since the
 * permit was issued) changes nothing. Successes can only lower the ratio, so FLAG_PASS needs no
 * recomputation when it is already set; that is also why the facade may count successes in
 * `pending` without asking, and why folding them first keeps every decision exact.
 */
export function recordAdaptive(slot: u32, generation: u32, outcome: u32, now: f64): i32 {
  if (<u32>load<u16>(slot + SLOT_GEN) != generation) return 0;
  const policy = policyOf(slot);
  const folded = foldPending(slot);
  const changed = roll(slot, policy, now) || folded;
  if (outcome == OUTCOME_SUCCESS) {
    addSuccesses(slot, 1);
    if (changed || (load<u8>(slot + SLOT_FLAGS) & FLAG_PASS) == 0) updatePass(slot, policy);
  } else if (outcome == OUTCOME_FAILURE) {
    addFailure(slot);
    updatePass(slot, policy);
  } else if (changed) {
    updatePass(slot, policy);
  }
  return reportShedding(slot);
}

/**
 * The probability that the next call is dropped by the draw: max(0, ratio) discounted by the
 * working buckets (the force pass aside). Rolls the window to `now` first.
 */
export function dropProbability(slot: u32, now: f64): f64 {
  const policy = policyOf(slot);
  const folded = foldPending(slot);
  if (roll(slot, policy, now) || folded) updatePass(slot, policy);
  if (inOutage(slot, policy)) return 1;
  const ratio = rawDropRatio(slot, policy);
  if (ratio <= 0) return 0;
  const buckets = <u32>load<u8>(policy + POLICY_BUCKETS);
  return ratio * (<f64>(buckets - <u32>load<u8>(slot + SLOT_WORKING)) / <f64>buckets);
}

/**
 * Counts calls made elsewhere (other instances of a cluster) in the current bucket: `successes`
 * and `failures` at once, as if settled now. Returns CHANGED when shedding started or stopped.
 */
export function mergeAdaptive(slot: u32, successes: u32, failures: u32, now: f64): i32 {
  const policy = policyOf(slot);
  foldPending(slot);
  roll(slot, policy, now);
  if (successes != 0) addSuccesses(slot, successes);
  if (failures != 0) addFailures(slot, failures);
  updatePass(slot, policy);
  return reportShedding(slot);
}
