// The three-state policy: closed → open → half-open, as sony/gobreaker, Sentinel and resilience4j.
// Mirrors assembly/three-state.ts.
//
// Transitions are lazy: a call, a settlement or a refresh that observes the time makes them; no
// timer runs. Each returns CHANGED when the state changed, so the facade emits its events once per
// real change. Every change bumps the generation and clears the counts and the window (gobreaker).

import { saturate } from "./counter.js";
import {
  CALL_FAILURE, CALL_SLOW, CHANGED, CHANGED_FROM_SHIFT, CHANGED_TO_SHIFT, DECISION_DROP, DECISION_PASS, DECISION_TOO_MANY, FLAG_PASS, FLAG_PASS_ANY_TIME, FLAG_THREE_STATE,
  MODE_DISABLED, MODE_FORCED_OPEN, MODE_METRICS_ONLY, MODE_NORMAL, OUTCOME_EXCLUDED, OUTCOME_FAILURE, OUTCOME_SUCCESS,
  POLICY_BACKOFF, POLICY_HALF_OPEN_MAX_CALLS, POLICY_HALF_OPEN_SUCCESSES, POLICY_MAX_OPEN_MS, POLICY_MIN_REQUESTS,
  POLICY_OPEN_MS, POLICY_PROBE_TIMEOUT_MS, POLICY_RECORD_SIZE, POLICY_SLOW_THRESHOLD, POLICY_SLOW_CALL_MS, POLICY_TABLE_OFFSET, POLICY_THRESHOLD, POLICY_TRIP, POLICY_WINDOW, POLICY_WINDOW_CALLS,
  SLOT_BUCKET, SLOT_FLAGS, SLOT_GEN, SLOT_PENDING, SLOT_POLICY, STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN,
  THREE_STATE_HEADER_SIZE, TRIP_CONSECUTIVE, TRIP_FAILURE_COUNT, TRIP_RATIOS, TRIP_SLOW_RATIO, TS_BUCKET_FAILURES,
  TS_BUCKET_REQUESTS, TS_BUCKET_SLOW, TS_CHANGED_AT, TS_CONSECUTIVE_FAILURES, TS_CONSECUTIVE_SUCCESSES, TS_EXCLUSIONS,
  TS_FAILURES, TS_IN_FLIGHT, TS_ISOLATIONS, TS_MODE, TS_OPEN_UNTIL, TS_REOPENS, TS_REQUESTS, TS_SLOW_CALLS,
  TS_STATE, TS_SUCCESSES, WINDOW_COUNT,
} from "../core/layout.js";
import type { Views } from "../core/views.js";
import { rollTally, tallyAdd, tallySize, tallySum } from "./tally.js";
import { bucketNumber, policyOf } from "./window.js";

/** (Re)initialises a three-state slot, closed and empty; the generation goes up by one. */
export function initThreeState(m: Views, slot: number, policyIndex: number, now: number): void {
  const policy = POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE;
  const generation = m.u16[(slot + SLOT_GEN) >>> 1] + 1;
  m.u8.fill(0, slot, slot + THREE_STATE_HEADER_SIZE + tallySize(m, policy));
  m.u8[slot + SLOT_POLICY] = policyIndex;
  m.u16[(slot + SLOT_GEN) >>> 1] = generation;
  m.u32[(slot + SLOT_BUCKET) >>> 2] = bucketNumber(m, policy, now);
  m.f64[(slot + TS_CHANGED_AT) >>> 3] = now;
  m.u8[slot + SLOT_FLAGS] = FLAG_THREE_STATE;
  updateFlags(m, slot);
}

/**
 * FLAG_PASS | FLAG_PASS_ANY_TIME while every call passes without the core: closed (or disabled),
 * not forced open, not isolated. Open, half-open and metrics-only-while-not-closed need the core,
 * which makes the lazy transitions.
 */
export function updateFlags(m: Views, slot: number): void {
  const mode = m.u8[slot + TS_MODE];
  const passes = m.u32[(slot + TS_ISOLATIONS) >>> 2] === 0 && mode !== MODE_FORCED_OPEN
    && (mode === MODE_DISABLED || m.u8[slot + TS_STATE] === STATE_CLOSED);
  let flags = m.u8[slot + SLOT_FLAGS] & ~(FLAG_PASS | FLAG_PASS_ANY_TIME);
  if (passes) flags |= mode === MODE_DISABLED || !successMayTrip(m, slot, policyOf(m, slot)) ? FLAG_PASS | FLAG_PASS_ANY_TIME : FLAG_PASS;
  m.u8[slot + SLOT_FLAGS] = flags;
}

/**
 * Whether a run of further successes, with nothing else settled between, could meet the trip of a
 * closed slot. Successes only lower a ratio while they bring minRequests nearer, so the first
 * count of them that reaches minRequests decides. A full count window is bounded from above (the
 * call a success evicts can only take a failure out). While this holds, successes go to the core.
 */
export function successMayTrip(m: Views, slot: number, policy: number): boolean {
  const trip = m.u8[policy + POLICY_TRIP];
  if (trip === TRIP_CONSECUTIVE) return false;
  const minRequests = m.f64[(policy + POLICY_MIN_REQUESTS) >>> 3];
  let requests = tallySum(m, slot, policy, TS_BUCKET_REQUESTS) + 1;
  if (requests < minRequests) requests = minRequests;
  if (m.u8[policy + POLICY_WINDOW] === WINDOW_COUNT) {
    const size = m.u16[(policy + POLICY_WINDOW_CALLS) >>> 1];
    if (requests > size) requests = size;
    if (requests < minRequests) return false;
  }
  const threshold = m.f64[(policy + POLICY_THRESHOLD) >>> 3];
  const bad = tallySum(m, slot, policy, trip === TRIP_SLOW_RATIO ? TS_BUCKET_SLOW : TS_BUCKET_FAILURES);
  if (trip === TRIP_RATIOS && tallySum(m, slot, policy, TS_BUCKET_SLOW) / requests >= m.f64[(policy + POLICY_SLOW_THRESHOLD) >>> 3]) return true;
  return trip === TRIP_FAILURE_COUNT ? bad >= threshold : bad / requests >= threshold;
}

/** Counts `count` settled calls of one outcome in the state's counts and the window. */
export function count(m: Views, slot: number, policy: number, outcome: number, slow: boolean, calls: number): void {
  m.u32[(slot + TS_REQUESTS) >>> 2] = saturate(m.u32[(slot + TS_REQUESTS) >>> 2], calls);
  if (slow) m.u32[(slot + TS_SLOW_CALLS) >>> 2] = saturate(m.u32[(slot + TS_SLOW_CALLS) >>> 2], calls);
  if (outcome === OUTCOME_EXCLUDED) {
    m.u32[(slot + TS_EXCLUSIONS) >>> 2] = saturate(m.u32[(slot + TS_EXCLUSIONS) >>> 2], calls);
    return;
  }
  if (outcome === OUTCOME_SUCCESS) {
    m.u32[(slot + TS_SUCCESSES) >>> 2] = saturate(m.u32[(slot + TS_SUCCESSES) >>> 2], calls);
    m.u32[(slot + TS_CONSECUTIVE_SUCCESSES) >>> 2] = saturate(m.u32[(slot + TS_CONSECUTIVE_SUCCESSES) >>> 2], calls);
    m.u32[(slot + TS_CONSECUTIVE_FAILURES) >>> 2] = 0;
  } else {
    m.u32[(slot + TS_FAILURES) >>> 2] = saturate(m.u32[(slot + TS_FAILURES) >>> 2], calls);
    m.u32[(slot + TS_CONSECUTIVE_FAILURES) >>> 2] = saturate(m.u32[(slot + TS_CONSECUTIVE_FAILURES) >>> 2], calls);
    m.u32[(slot + TS_CONSECUTIVE_SUCCESSES) >>> 2] = 0;
  }
  tallyAdd(m, slot, policy, (outcome === OUTCOME_FAILURE ? CALL_FAILURE : 0) | (slow ? CALL_SLOW : 0), calls);
}

/** Folds the successes the facade counted in `pending` (only ever while closed), then rolls. */
export function catchUp(m: Views, slot: number, policy: number, now: number): void {
  const pending = m.u8[slot + SLOT_PENDING];
  if (pending !== 0) {
    m.u8[slot + SLOT_PENDING] = 0;
    count(m, slot, policy, OUTCOME_SUCCESS, false, pending);
  }
  if (rollTally(m, slot, policy, now) || pending !== 0) updateFlags(m, slot); // the sums moved
}

/** Moves to `state` at `now`: a new generation, counts and window cleared, no probes in flight. */
export function transition(m: Views, slot: number, policy: number, state: number, now: number): number {
  const from = m.u8[slot + TS_STATE];
  const generation = m.u16[(slot + SLOT_GEN) >>> 1] + 1;
  m.u8.fill(0, slot + TS_REQUESTS, slot + TS_REQUESTS + 8); // requests, successes
  m.u8.fill(0, slot + TS_FAILURES, slot + TS_FAILURES + 20); // failures … slowCalls
  m.u8.fill(0, slot + THREE_STATE_HEADER_SIZE, slot + THREE_STATE_HEADER_SIZE + tallySize(m, policy));
  m.u16[(slot + SLOT_GEN) >>> 1] = generation;
  m.u8[slot + TS_STATE] = state;
  m.u16[(slot + TS_IN_FLIGHT) >>> 1] = 0;
  m.u8[slot + SLOT_PENDING] = 0;
  m.f64[(slot + TS_CHANGED_AT) >>> 3] = now;
  updateFlags(m, slot);
  return changed(from, state);
}

/** CHANGED with the states a transition left and entered (at CHANGED_FROM_SHIFT, CHANGED_TO_SHIFT). */
export function changed(from: number, to: number): number {
  return CHANGED | (from << CHANGED_FROM_SHIFT) | (to << CHANGED_TO_SHIFT);
}

/**
 * Opens: for `forMs` when it is > 0 (an upstream's Retry-After), else for openMs · backoff^reopens
 * (by repeated products, identical in both engines); at most maxOpenMs either way. Each opening
 * without a clean close raises the exponent.
 */
export function open(m: Views, slot: number, policy: number, now: number, forMs: number): number {
  const reopens = m.u8[slot + TS_REOPENS];
  const backoff = m.f64[(policy + POLICY_BACKOFF) >>> 3];
  const maxOpenMs = m.f64[(policy + POLICY_MAX_OPEN_MS) >>> 3];
  let duration = m.f64[(policy + POLICY_OPEN_MS) >>> 3];
  for (let i = 0; i < reopens && duration < maxOpenMs; i++) duration *= backoff;
  if (forMs > 0) duration = forMs;
  if (duration > maxOpenMs) duration = maxOpenMs;
  const code = transition(m, slot, policy, STATE_OPEN, now);
  m.f64[(slot + TS_OPEN_UNTIL) >>> 3] = now + duration;
  if (reopens < 255) m.u8[slot + TS_REOPENS] = reopens + 1;
  return code;
}

/** Closes after a clean half-open: the backoff starts over. */
export function close(m: Views, slot: number, policy: number, now: number): number {
  const code = transition(m, slot, policy, STATE_CLOSED, now);
  m.u8[slot + TS_REOPENS] = 0;
  return code;
}

/** Whether the closed state's counts call for opening, by the policy's trip strategy. */
export function shouldTrip(m: Views, slot: number, policy: number): boolean {
  const trip = m.u8[policy + POLICY_TRIP];
  const threshold = m.f64[(policy + POLICY_THRESHOLD) >>> 3];
  if (trip === TRIP_CONSECUTIVE) return m.u32[(slot + TS_CONSECUTIVE_FAILURES) >>> 2] >= threshold;
  const requests = tallySum(m, slot, policy, TS_BUCKET_REQUESTS);
  if (requests === 0 || requests < m.f64[(policy + POLICY_MIN_REQUESTS) >>> 3]) return false;
  if (trip === TRIP_FAILURE_COUNT) return tallySum(m, slot, policy, TS_BUCKET_FAILURES) >= threshold;
  if (trip === TRIP_RATIOS && tallySum(m, slot, policy, TS_BUCKET_SLOW) / requests >= m.f64[(policy + POLICY_SLOW_THRESHOLD) >>> 3]) return true;
  const bad = tallySum(m, slot, policy, trip === TRIP_SLOW_RATIO ? TS_BUCKET_SLOW : TS_BUCKET_FAILURES);
  return bad / requests >= threshold;
}

/**
 * Lazy transitions: an open slot whose time is up goes half-open; a half-open slot whose probes are
 * still out past their deadline (POLICY_PROBE_TIMEOUT_MS) opens again. Returns CHANGED or 0.
 */
export function refreshThreeState(m: Views, slot: number, now: number): number {
  const policy = policyOf(m, slot);
  catchUp(m, slot, policy, now);
  if (m.u8[slot + TS_MODE] === MODE_DISABLED || now < m.f64[(slot + TS_OPEN_UNTIL) >>> 3]) return 0;
  const state = m.u8[slot + TS_STATE];
  if (state === STATE_OPEN) return transition(m, slot, policy, STATE_HALF_OPEN, now);
  // Half-open, `openUntil` is the probes' deadline: probes still out past it count as failed.
  if (state === STATE_HALF_OPEN && m.u16[(slot + TS_IN_FLIGHT) >>> 1] !== 0) return open(m, slot, policy, now, 0);
  return 0;
}

/**
 * Decides one call: DECISION_PASS, DECISION_DROP (open, forced open or isolated) or
 * DECISION_TOO_MANY (the half-open probe cap is reached), plus CHANGED when the call moved an
 * open slot to half-open (it is then the first probe). Metrics-only mode runs all of this and
 * passes anyway; disabled passes without it.
 */
export function allowThreeState(m: Views, slot: number, now: number): number {
  const changed = refreshThreeState(m, slot, now);
  const mode = m.u8[slot + TS_MODE];
  if (m.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0 || mode === MODE_FORCED_OPEN) return DECISION_DROP | changed;
  if (mode === MODE_DISABLED) return DECISION_PASS | changed;
  const state = m.u8[slot + TS_STATE];
  let decision = DECISION_PASS;
  if (state === STATE_OPEN) {
    decision = DECISION_DROP;
  } else if (state === STATE_HALF_OPEN) {
    const inFlight = m.u16[(slot + TS_IN_FLIGHT) >>> 1];
    const policy = policyOf(m, slot);
    if (inFlight < m.u16[(policy + POLICY_HALF_OPEN_MAX_CALLS) >>> 1]) {
      m.u16[(slot + TS_IN_FLIGHT) >>> 1] = inFlight + 1;
      m.f64[(slot + TS_OPEN_UNTIL) >>> 3] = now + m.f64[(policy + POLICY_PROBE_TIMEOUT_MS) >>> 3]; // the lease
    } else {
      decision = DECISION_TOO_MANY;
    }
  }
  return (mode === MODE_METRICS_ONLY ? DECISION_PASS : decision) | changed;
}

/**
 * Settles one permit of `generation` (others change nothing): a success, failure or exclusion
 * that took `durationMs` (slow when above the policy's slowCallMs). Closed: a failure or slow
 * call may trip it. Half-open: a failure (or, under a slow-call ratio, a slow call) opens it
 * again; `halfOpenSuccesses` consecutive successes close it. Returns CHANGED or 0.
 */
export function recordThreeState(m: Views, slot: number, generation: number, outcome: number, durationMs: number, now: number): number {
  if (m.u16[(slot + SLOT_GEN) >>> 1] !== generation) return 0;
  const policy = policyOf(m, slot);
  catchUp(m, slot, policy, now);
  const slow = durationMs > m.f64[(policy + POLICY_SLOW_CALL_MS) >>> 3];
  count(m, slot, policy, outcome, slow, 1);
  if (m.u8[slot + TS_MODE] === MODE_DISABLED) return 0;
  const state = m.u8[slot + TS_STATE];
  if (state === STATE_CLOSED) {
    if (outcome !== OUTCOME_EXCLUDED && shouldTrip(m, slot, policy)) return open(m, slot, policy, now, 0);
    updateFlags(m, slot);
  } else if (state === STATE_HALF_OPEN) {
    const inFlight = m.u16[(slot + TS_IN_FLIGHT) >>> 1];
    if (inFlight > 0) m.u16[(slot + TS_IN_FLIGHT) >>> 1] = inFlight - 1;
    if (outcome === OUTCOME_FAILURE || (slow && m.u8[policy + POLICY_TRIP] >= TRIP_SLOW_RATIO)) {
      return open(m, slot, policy, now, 0);
    }
    if (outcome === OUTCOME_SUCCESS
      && m.u32[(slot + TS_CONSECUTIVE_SUCCESSES) >>> 2] >= m.u16[(policy + POLICY_HALF_OPEN_SUCCESSES) >>> 1]) {
      return close(m, slot, policy, now);
    }
  }
  return 0;
}

/**
 * Accelerated tripping (an upstream's 429/503 with Retry-After): open now for `forMs` (at most
 * maxOpenMs), or, already open, stay open at least that long. Disabled slots ignore it. Returns CHANGED or 0.
 */
export function tripThreeState(m: Views, slot: number, forMs: number, now: number): number {
  const policy = policyOf(m, slot);
  catchUp(m, slot, policy, now);
  if (m.u8[slot + TS_MODE] === MODE_DISABLED) return 0;
  if (m.u8[slot + TS_STATE] === STATE_OPEN) {
    const maxOpenMs = m.f64[(policy + POLICY_MAX_OPEN_MS) >>> 3];
    const until = now + Math.min(forMs, maxOpenMs);
    if (until > m.f64[(slot + TS_OPEN_UNTIL) >>> 3]) m.f64[(slot + TS_OPEN_UNTIL) >>> 3] = until;
    return 0;
  }
  return open(m, slot, policy, now, forMs);
}

/** Sets the manual mode (MODE_NORMAL, MODE_FORCED_OPEN, MODE_DISABLED, MODE_METRICS_ONLY). */
export function setMode(m: Views, slot: number, mode: number): void {
  m.u8[slot + TS_MODE] = mode;
  updateFlags(m, slot);
}

/** Moves to `state` now, whatever the counts say (forceClose, reset). Returns CHANGED or 0. */
export function forceState(m: Views, slot: number, state: number, now: number): number {
  const policy = policyOf(m, slot);
  catchUp(m, slot, policy, now);
  const was = m.u8[slot + TS_STATE];
  const code = state === STATE_OPEN ? open(m, slot, policy, now, 0)
    : state === STATE_CLOSED ? close(m, slot, policy, now)
    : transition(m, slot, policy, state, now);
  return was === state ? 0 : code;
}

/** Adds `delta` (+1 or −1) to the open isolation handles; any open handle rejects every call. */
export function isolate(m: Views, slot: number, delta: number): void {
  m.u32[(slot + TS_ISOLATIONS) >>> 2] = m.u32[(slot + TS_ISOLATIONS) >>> 2] + delta;
  updateFlags(m, slot);
}

/** Whether the slot rejects calls now, without moving it: open, forced open or isolated. */
export function rejecting(m: Views, slot: number, now: number): boolean {
  const mode = m.u8[slot + TS_MODE];
  if (m.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0 || mode === MODE_FORCED_OPEN) return true;
  if (mode !== MODE_NORMAL) return false;
  return m.u8[slot + TS_STATE] === STATE_OPEN && now < m.f64[(slot + TS_OPEN_UNTIL) >>> 3];
}

/**
 * Counts calls made elsewhere (other instances of a cluster) in a closed slot's counts and window,
 * as if settled now, and trips it when the window now meets the trip. Only a closed breaker's
 * counts are shared (an open one counts nothing, a half-open one its own probes). Disabled slots
 * ignore it. Returns CHANGED or 0.
 */
export function mergeThreeState(m: Views, slot: number, successes: number, failures: number, now: number): number {
  const policy = policyOf(m, slot);
  catchUp(m, slot, policy, now);
  if (m.u8[slot + TS_STATE] !== STATE_CLOSED || m.u8[slot + TS_MODE] === MODE_DISABLED) return 0;
  if (successes !== 0) count(m, slot, policy, OUTCOME_SUCCESS, false, successes);
  if (failures !== 0) count(m, slot, policy, OUTCOME_FAILURE, false, failures);
  if ((successes | failures) !== 0 && shouldTrip(m, slot, policy)) return open(m, slot, policy, now, 0);
  updateFlags(m, slot);
  return 0;
}
