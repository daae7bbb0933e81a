// The adaptive policy: Google SRE client-side throttling as go-zero's `core/breaker` implements it.
// Mirrors assembly/adaptive.ts.

import {
  ADAPTIVE_HEADER_SIZE, BUCKET_SIZE, CHANGED, CHANGED_FROM_SHIFT, CHANGED_TO_SHIFT, DECISION_DROP, DECISION_PASS, FLAG_LAST_PASS, FLAG_PASS, FLAG_SHEDDING,
  STATE_CLOSED, STATE_OPEN,
  OUTCOME_FAILURE, OUTCOME_SUCCESS, POLICY_BUCKETS, POLICY_FORCE_PASS_MS, POLICY_K, POLICY_MIN_K,
  POLICY_OUTAGE_BUCKETS, POLICY_PROTECTION, POLICY_RECORD_SIZE, POLICY_RECOVERY, RECOVERY_FAST, POLICY_TABLE_OFFSET, SLOT_ACCEPTS, SLOT_BUCKET, SLOT_FAILING,
  SLOT_FLAGS, SLOT_GEN, SLOT_LAST_PASS, SLOT_POLICY, SLOT_RNG, SLOT_TOTAL, SLOT_WORKING,
} from "../core/layout.js";
import type { Views } from "../core/views.js";
import { draw, seedState } from "./random.js";
import { addDrop, addFailure, addFailures, addSuccesses, bucketNumber, foldPending, policyOf, roll } from "./window.js";

/**
 * (Re)initialises an adaptive slot under policy record `policyIndex`: an empty window whose current
 * bucket is the one `now` falls in. The generation goes up by one, so permits issued to an earlier
 * occupant of the slot settle nothing.
 */
export function initAdaptive(m: Views, slot: number, policyIndex: number, seed: number, now: number): void {
  const policy = POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE;
  const generation = m.u16[(slot + SLOT_GEN) >>> 1] + 1;
  m.u8.fill(0, slot, slot + ADAPTIVE_HEADER_SIZE + m.u8[policy + POLICY_BUCKETS] * BUCKET_SIZE);
  m.u8[slot + SLOT_POLICY] = policyIndex;
  m.u16[(slot + SLOT_GEN) >>> 1] = generation;
  m.u32[(slot + SLOT_RNG) >>> 2] = seedState(seed >>> 0);
  m.u32[(slot + SLOT_BUCKET) >>> 2] = bucketNumber(m, policy, now);
  updatePass(m, slot, policy);
}

/**
 * go-zero's drop ratio before the working-bucket discount, from the window sums:
 *
 *   w     = max(minK, k − (k − minK) · failing / buckets)      k decays 1.5 → 1.1 over failing buckets
 *   ratio = (total − protection − w · accepts) / (total + 1)   SRE book, eq. 21-1, with protection
 *
 * ratio ≤ 0 means "pass"; the operand order matches go-zero so the floats agree bit for bit.
 */
export function rawDropRatio(m: Views, slot: number, policy: number): number {
  const k = m.f64[(policy + POLICY_K) >>> 3];
  const minK = m.f64[(policy + POLICY_MIN_K) >>> 3];
  const buckets = m.u8[policy + POLICY_BUCKETS];
  let w = k - (k - minK) * m.u8[slot + SLOT_FAILING] / buckets;
  if (w < minK) w = minK;
  const total = m.u32[(slot + SLOT_TOTAL) >>> 2];
  const accepts = m.u32[(slot + SLOT_ACCEPTS) >>> 2];
  return (total - m.f64[(policy + POLICY_PROTECTION) >>> 3] - w * accepts) / (total + 1);
}

/**
 * Whether a RECOVERY_FAST policy sees an outage: a trailing run of at least `outageBuckets`
 * failure-only buckets in a window of more than `protection` requests.
 */
export function inOutage(m: Views, slot: number, policy: number): boolean {
  return m.u8[policy + POLICY_RECOVERY] === RECOVERY_FAST
    && m.u8[slot + SLOT_FAILING] >= m.u8[policy + POLICY_OUTAGE_BUCKETS]
    && m.u32[(slot + SLOT_TOTAL) >>> 2] > m.f64[(policy + POLICY_PROTECTION) >>> 3];
}

/** Keeps FLAG_PASS equal to (rawDropRatio ≤ 0 and no outage); called after every change to the window. */
export function updatePass(m: Views, slot: number, policy: number): void {
  const flags = m.u8[slot + SLOT_FLAGS];
  const passes = rawDropRatio(m, slot, policy) <= 0 && !inOutage(m, slot, policy);
  m.u8[slot + SLOT_FLAGS] = passes ? flags | FLAG_PASS : flags & ~FLAG_PASS;
}

/**
 * Decides one call (go-zero `accept()` followed by `markDrop()` on a drop):
 *   ratio ≤ 0                                  → pass (lastPass untouched)
 *   a draw passed once and > forcePassMs since → pass, lastPass = now (at least one probe a second)
 *   else ratio ·= (buckets − working) / buckets, drop iff draw < ratio (the drop is counted at once),
 *   and a pass from the draw sets lastPass = now.
 */
export function allowAdaptive(m: Views, slot: number, now: number): number {
  return decideAdaptive(m, slot, now) | reportShedding(m, slot);
}

/**
 * CHANGED (closed → open, or open → closed) when shedding started or stopped since it was last
 * reported (FLAG_SHEDDING), else 0.
 */
export function reportShedding(m: Views, slot: number): number {
  const flags = m.u8[slot + SLOT_FLAGS];
  const shedding = (flags & FLAG_PASS) === 0;
  if (shedding === ((flags & FLAG_SHEDDING) !== 0)) return 0;
  m.u8[slot + SLOT_FLAGS] = shedding ? flags | FLAG_SHEDDING : flags & ~FLAG_SHEDDING;
  const from = shedding ? STATE_CLOSED : STATE_OPEN;
  const to = shedding ? STATE_OPEN : STATE_CLOSED;
  return CHANGED | (from << CHANGED_FROM_SHIFT) | (to << CHANGED_TO_SHIFT);
}

/** allowAdaptive before the report. */
export function decideAdaptive(m: Views, slot: number, now: number): number {
  const policy = policyOf(m, slot);
  const folded = foldPending(m, slot);
  if (roll(m, slot, policy, now) || folded) updatePass(m, slot, policy);
  const flags = m.u8[slot + SLOT_FLAGS];
  if (inOutage(m, slot, policy)) {
    // Probes only, the first at once; a drop in an outage is not counted (RECOVERY_FAST).
    if ((flags & FLAG_LAST_PASS) !== 0 && !(now - m.f64[(slot + SLOT_LAST_PASS) >>> 3] > m.f64[(policy + POLICY_FORCE_PASS_MS) >>> 3])) {
      return DECISION_DROP;
    }
    m.f64[(slot + SLOT_LAST_PASS) >>> 3] = now;
    m.u8[slot + SLOT_FLAGS] = flags | FLAG_LAST_PASS;
    return DECISION_PASS;
  }
  let ratio = rawDropRatio(m, slot, policy);
  if (ratio <= 0) return DECISION_PASS;
  if ((flags & FLAG_LAST_PASS) !== 0
    && now - m.f64[(slot + SLOT_LAST_PASS) >>> 3] > m.f64[(policy + POLICY_FORCE_PASS_MS) >>> 3]) {
    m.f64[(slot + SLOT_LAST_PASS) >>> 3] = now;
    return DECISION_PASS;
  }
  const buckets = m.u8[policy + POLICY_BUCKETS];
  ratio *= (buckets - m.u8[slot + SLOT_WORKING]) / buckets;
  if (draw(m, slot) < ratio) {
    addDrop(m, slot); // the ratio only grows, so FLAG_PASS stays clear
    return DECISION_DROP;
  }
  m.f64[(slot + SLOT_LAST_PASS) >>> 3] = now;
  m.u8[slot + SLOT_FLAGS] = flags | FLAG_LAST_PASS;
  return DECISION_PASS;
}

/**
 * Settles one permit. A generation other than the slot's (the slot was reset or reused since the
 * permit was issued) changes nothing. Successes can only lower the ratio, so FLAG_PASS needs no
 * recomputation when it is already set; that is also why the facade may count successes in
 * `pending` without asking, and why folding them first keeps every decision exact.
 */
export function recordAdaptive(m: Views, slot: number, generation: number, outcome: number, now: number): number {
  if (m.u16[(slot + SLOT_GEN) >>> 1] !== generation) return 0;
  const policy = policyOf(m, slot);
  const folded = foldPending(m, slot);
  const changed = roll(m, slot, policy, now) || folded;
  if (outcome === OUTCOME_SUCCESS) {
    addSuccesses(m, slot, 1);
    if (changed || (m.u8[slot + SLOT_FLAGS] & FLAG_PASS) === 0) updatePass(m, slot, policy);
  } else if (outcome === OUTCOME_FAILURE) {
    addFailure(m, slot);
    updatePass(m, slot, policy);
  } else if (changed) {
    updatePass(m, slot, policy);
  }
  return reportShedding(m, slot);
}

/**
 * The probability that the next call is dropped by the draw: max(0, ratio) discounted by the
 * working buckets (the force pass aside). Rolls the window to `now` first.
 */
export function dropProbability(m: Views, slot: number, now: number): number {
  const policy = policyOf(m, slot);
  const folded = foldPending(m, slot);
  if (roll(m, slot, policy, now) || folded) updatePass(m, slot, policy);
  if (inOutage(m, slot, policy)) return 1;
  const ratio = rawDropRatio(m, slot, policy);
  if (ratio <= 0) return 0;
  const buckets = m.u8[policy + POLICY_BUCKETS];
  return ratio * ((buckets - m.u8[slot + SLOT_WORKING]) / buckets);
}

/**
 * Counts calls made elsewhere (other instances of a cluster) in the current bucket: `successes`
 * and `failures` at once, as if settled now. Returns CHANGED when shedding started or stopped.
 */
export function mergeAdaptive(m: Views, slot: number, successes: number, failures: number, now: number): number {
  const policy = policyOf(m, slot);
  foldPending(m, slot);
  roll(m, slot, policy, now);
  if (successes !== 0) addSuccesses(m, slot, successes);
  if (failures !== 0) addFailures(m, slot, failures);
  updatePass(m, slot, policy);
  return reportShedding(m, slot);
}
