// The three-state policy: closed → open → half-open, as sony/gobreaker, Sentinel and resilience4j.
// Mirrored by src/engine-js/three-state.ts.
//
// Transitions are lazy: a call, a settlement or a refresh that observes the time makes them; no
// timer runs. Each returns CHANGED when the state changed, so the facade emits its events once per
// real change. Every change bumps the generation and clears the counts and the window (gobreaker).

import { saturate } from "./counter";
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
} from "../src/core/layout";
import { rollTally, tallyAdd, tallySize, tallySum } from "./tally";
import { bucketNumber, policyOf } from "./window";

/** (Re)initialises a three-state slot, closed and empty; the generation goes up by one. */
export function initThreeState(slot: u32, policyIndex: u32, now: f64): void {
  const policy = POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE;
  const generation = load<u16>(slot + SLOT_GEN) + 1;
  memory.fill(slot, 0, THREE_STATE_HEADER_SIZE + tallySize(policy));
  store<u8>(slot + SLOT_POLICY, <u8>policyIndex);
  store<u16>(slot + SLOT_GEN, generation);
  store<u32>(slot + SLOT_BUCKET, bucketNumber(policy, now));
  store<f64>(slot + TS_CHANGED_AT, now);
  store<u8>(slot + SLOT_FLAGS, FLAG_THREE_STATE);
  updateFlags(slot);
}

/**
 * FLAG_PASS | FLAG_PASS_ANY_TIME while every call passes without the core: closed (or disabled),
 * not forced open, not isolated. Open, half-open and metrics-only-while-not-closed need the core,
 * which makes the lazy transitions.
 */
export function updateFlags(slot: u32): void {
  const mode = load<u8>(slot + TS_MODE);
  const passes = load<u32>(slot + TS_ISOLATIONS) == 0 && mode != MODE_FORCED_OPEN
    && (mode == MODE_DISABLED || load<u8>(slot + TS_STATE) == STATE_CLOSED);
  let flags = load<u8>(slot + SLOT_FLAGS) & ~(FLAG_PASS | FLAG_PASS_ANY_TIME);
  if (passes) flags |= mode == MODE_DISABLED || !successMayTrip(slot, policyOf(slot)) ? FLAG_PASS | FLAG_PASS_ANY_TIME : FLAG_PASS;
  store<u8>(slot + SLOT_FLAGS, flags);
}

/**
 * Whether a run of further successes, with nothing else settled between, could meet the trip of a
 * closed slot. Successes only lower a ratio while they bring minRequests nearer, so the first
 * count of them that reaches minRequests decides. A full count window is bounded from above (the
 * call a success evicts can only take a failure out). While this holds, successes go to the core.
 */
export function successMayTrip(slot: u32, policy: u32): bool {
  const trip = load<u8>(policy + POLICY_TRIP);
  if (trip == TRIP_CONSECUTIVE) return false;
  const minRequests = load<f64>(policy + POLICY_MIN_REQUESTS);
  let requests = <f64>tallySum(slot, policy, TS_BUCKET_REQUESTS) + 1;
  if (requests < minRequests) requests = minRequests;
  if (load<u8>(policy + POLICY_WINDOW) == WINDOW_COUNT) {
    const size = <f64>load<u16>(policy + POLICY_WINDOW_CALLS);
    if (requests > size) requests = size;
    if (requests < minRequests) return false;
  }
  const threshold = load<f64>(policy + POLICY_THRESHOLD);
  const bad = <f64>tallySum(slot, policy, trip == TRIP_SLOW_RATIO ? TS_BUCKET_SLOW : TS_BUCKET_FAILURES);
  if (trip == TRIP_RATIOS && <f64>tallySum(slot, policy, TS_BUCKET_SLOW) / requests >= load<f64>(policy + POLICY_SLOW_THRESHOLD)) return true;
  return trip == TRIP_FAILURE_COUNT ? bad >= threshold : bad / requests >= threshold;
}

/** Counts `count` settled calls of one outcome in the state's counts and the window. */
export function count(slot: u32, policy: u32, outcome: u32, slow: bool, calls: u32): void {
  store<u32>(slot + TS_REQUESTS, saturate(load<u32>(slot + TS_REQUESTS), calls));
  if (slow) store<u32>(slot + TS_SLOW_CALLS, saturate(load<u32>(slot + TS_SLOW_CALLS), calls));
  if (outcome == OUTCOME_EXCLUDED) {
    store<u32>(slot + TS_EXCLUSIONS, saturate(load<u32>(slot + TS_EXCLUSIONS), calls));
    return;
  }
  if (outcome == OUTCOME_SUCCESS) {
    store<u32>(slot + TS_SUCCESSES, saturate(load<u32>(slot + TS_SUCCESSES), calls));
    store<u32>(slot + TS_CONSECUTIVE_SUCCESSES, saturate(load<u32>(slot + TS_CONSECUTIVE_SUCCESSES), calls));
    store<u32>(slot + TS_CONSECUTIVE_FAILURES, 0);
  } else {
    store<u32>(slot + TS_FAILURES, saturate(load<u32>(slot + TS_FAILURES), calls));
    store<u32>(slot + TS_CONSECUTIVE_FAILURES, saturate(load<u32>(slot + TS_CONSECUTIVE_FAILURES), calls));
    store<u32>(slot + TS_CONSECUTIVE_SUCCESSES, 0);
  }
  tallyAdd(slot, policy, (outcome == OUTCOME_FAILURE ? CALL_FAILURE : 0) | (slow ? CALL_SLOW : 0), calls);
}

/** Folds the successes the facade counted in `pending` (only ever while closed), then rolls. */
export function catchUp(slot: u32, policy: u32, now: f64): void {
  const pending = <u32>load<u8>(slot + SLOT_PENDING);
  if (pending != 0) {
    store<u8>(slot + SLOT_PENDING, 0);
    count(slot, policy, OUTCOME_SUCCESS, false, pending);
  }
  if (rollTally(slot, policy, now) || pending != 0) updateFlags(slot); // the sums moved
}

/** Moves to `state` at `now`: a new generation, counts and window cleared, no probes in flight. */
export function transition(slot: u32, policy: u32, state: u32, now: f64): i32 {
  const from = <i32>load<u8>(slot + TS_STATE);
  const generation = load<u16>(slot + SLOT_GEN) + 1;
  memory.fill(slot + TS_REQUESTS, 0, 8); // requests, successes
  memory.fill(slot + TS_FAILURES, 0, 20); // failures … slowCalls
  memory.fill(slot + THREE_STATE_HEADER_SIZE, 0, tallySize(policy));
  store<u16>(slot + SLOT_GEN, generation);
  store<u8>(slot + TS_STATE, <u8>state);
  store<u16>(slot + TS_IN_FLIGHT, 0);
  store<u8>(slot + SLOT_PENDING, 0);
  store<f64>(slot + TS_CHANGED_AT, now);
  updateFlags(slot);
  return changed(from, state);
}

/** CHANGED with the states a transition left and entered (at CHANGED_FROM_SHIFT, CHANGED_TO_SHIFT). */
export function changed(from: i32, to: u32): i32 {
  return CHANGED | (from << CHANGED_FROM_SHIFT) | (<i32>to << CHANGED_TO_SHIFT);
}

/**
 * Opens: for `forMs` when it is > 0 (an upstream's Retry-After), else for openMs · backoff^reopens
 * (by repeated products, identical in both engines); at most maxOpenMs either way. Each opening
 * without a clean close raises the exponent.
 */
export function open(slot: u32, policy: u32, now: f64, forMs: f64): i32 {
  const reopens = <u32>load<u8>(slot + TS_REOPENS);
  const backoff = load<f64>(policy + POLICY_BACKOFF);
  const maxOpenMs = load<f64>(policy + POLICY_MAX_OPEN_MS);
  let duration = load<f64>(policy + POLICY_OPEN_MS);
  for (let i: u32 = 0; i < reopens && duration < maxOpenMs; i++) duration *= backoff;
  if (forMs > 0) duration = forMs;
  if (duration > maxOpenMs) duration = maxOpenMs;
  const code = transition(slot, policy, STATE_OPEN, now);
  store<f64>(slot + TS_OPEN_UNTIL, now + duration);
  if (reopens < 255) store<u8>(slot + TS_REOPENS, <u8>(reopens + 1));
  return code;
}

/** Closes after a clean half-open: the backoff starts over. */
export function close(slot: u32, policy: u32, now: f64): i32 {
  const code = transition(slot, policy, STATE_CLOSED, now);
  store<u8>(slot + TS_REOPENS, 0);
  return code;
}

/** Whether the closed state's counts call for opening, by the policy's trip strategy. */
export function shouldTrip(slot: u32, policy: u32): bool {
  const trip = load<u8>(policy + POLICY_TRIP);
  const threshold = load<f64>(policy + POLICY_THRESHOLD);
  if (trip == TRIP_CONSECUTIVE) return <f64>load<u32>(slot + TS_CONSECUTIVE_FAILURES) >= threshold;
  const requests = tallySum(slot, policy, TS_BUCKET_REQUESTS);
  if (requests == 0 || <f64>requests < load<f64>(policy + POLICY_MIN_REQUESTS)) return false;
  if (trip == TRIP_FAILURE_COUNT) return <f64>tallySum(slot, policy, TS_BUCKET_FAILURES) >= threshold;
  if (trip == TRIP_RATIOS && <f64>tallySum(slot, policy, TS_BUCKET_SLOW) / <f64>requests >= load<f64>(policy + POLICY_SLOW_THRESHOLD)) return true;
  const bad = tallySum(slot, policy, trip == TRIP_SLOW_RATIO ? TS_BUCKET_SLOW : TS_BUCKET_FAILURES);
  return <f64>bad / <f64>requests >= threshold;
}

/**
 * Lazy transitions: an open slot whose time is up goes half-open; a half-open slot whose probes are
 * still out past their deadline (POLICY_PROBE_TIMEOUT_MS) opens again. Returns CHANGED or 0.
 */
export function refreshThreeState(slot: u32, now: f64): i32 {
  const policy = policyOf(slot);
  catchUp(slot, policy, now);
  if (load<u8>(slot + TS_MODE) == MODE_DISABLED || now < load<f64>(slot + TS_OPEN_UNTIL)) return 0;
  const state = load<u8>(slot + TS_STATE);
  if (state == STATE_OPEN) return transition(slot, policy, STATE_HALF_OPEN, now);
  // Half-open, `openUntil` is the probes' deadline: probes still out past it count as failed.
  if (state == STATE_HALF_OPEN && load<u16>(slot + TS_IN_FLIGHT) != 0) return open(slot, policy, now, 0);
  return 0;
}

/**
 * Decides one call: DECISION_PASS, DECISION_DROP (open, forced open or isolated) or
 * DECISION_TOO_MANY (the half-open probe cap is reached), plus CHANGED when the call moved an
 * open slot to half-open (it is then the first probe). Metrics-only mode runs all of this and
 * passes anyway; disabled passes without it.
 */
export function allowThreeState(slot: u32, now: f64): i32 {
  const changed = refreshThreeState(slot, now);
  const mode = load<u8>(slot + TS_MODE);
  if (load<u32>(slot + TS_ISOLATIONS) != 0 || mode == MODE_FORCED_OPEN) return DECISION_DROP | changed;
  if (mode == MODE_DISABLED) return DECISION_PASS | changed;
  const state = load<u8>(slot + TS_STATE);
  let decision = DECISION_PASS;
  if (state == STATE_OPEN) {
    decision = DECISION_DROP;
  } else if (state == STATE_HALF_OPEN) {
    const inFlight = <u32>load<u16>(slot + TS_IN_FLIGHT);
    const policy = policyOf(slot);
    if (inFlight < <u32>load<u16>(policy + POLICY_HALF_OPEN_MAX_CALLS)) {
      store<u16>(slot + TS_IN_FLIGHT, <u16>(inFlight + 1));
      store<f64>(slot + TS_OPEN_UNTIL, now + load<f64>(policy + POLICY_PROBE_TIMEOUT_MS)); // the lease
    } else {
      decision = DECISION_TOO_MANY;
    }
  }
  return (mode == MODE_METRICS_ONLY ? DECISION_PASS : decision) | changed;
}

/**
 * Settles one permit of `generation` (others change nothing): a success, failure or exclusion
 * that took `durationMs` (slow when above the policy's slowCallMs). Closed: a failure or slow
 * call may trip it. Half-open: a failure (or, under a slow-call ratio, a slow call) opens it
 * again; `halfOpenSuccesses` consecutive successes close it. Returns CHANGED or 0.
 */
export function recordThreeState(slot: u32, generation: u32, outcome: u32, durationMs: f64, now: f64): i32 {
  if (<u32>load<u16>(slot + SLOT_GEN) != generation) return 0;
  const policy = policyOf(slot);
  catchUp(slot, policy, now);
  const slow = durationMs > load<f64>(policy + POLICY_SLOW_CALL_MS);
  count(slot, policy, outcome, slow, 1);
  if (load<u8>(slot + TS_MODE) == MODE_DISABLED) return 0;
  const state = load<u8>(slot + TS_STATE);
  if (state == STATE_CLOSED) {
    if (outcome != OUTCOME_EXCLUDED && shouldTrip(slot, policy)) return open(slot, policy, now, 0);
    updateFlags(slot);
  } else if (state == STATE_HALF_OPEN) {
    const inFlight = <u32>load<u16>(slot + TS_IN_FLIGHT);
    if (inFlight > 0) store<u16>(slot + TS_IN_FLIGHT, <u16>(inFlight - 1));
    if (outcome == OUTCOME_FAILURE || (slow && <i32>load<u8>(policy + POLICY_TRIP) >= TRIP_SLOW_RATIO)) {
      return open(slot, policy, now, 0);
    }
    if (outcome == OUTCOME_SUCCESS
      && load<u32>(slot + TS_CONSECUTIVE_SUCCESSES) >= <u32>load<u16>(policy + POLICY_HALF_OPEN_SUCCESSES)) {
      return close(slot, policy, now);
    }
  }
  return 0;
}

/**
 * Accelerated tripping (an upstream's 429/503 with Retry-After): open now for `forMs` (at most
 * maxOpenMs), or, already open, stay open at least that long. Disabled slots ignore it. Returns CHANGED or 0.
 */
export function tripThreeState(slot: u32, forMs: f64, now: f64): i32 {
  const policy = policyOf(slot);
  catchUp(slot, policy, now);
  if (load<u8>(slot + TS_MODE) == MODE_DISABLED) return 0;
  if (load<u8>(slot + TS_STATE) == STATE_OPEN) {
    const maxOpenMs = load<f64>(policy + POLICY_MAX_OPEN_MS);
    const until = now + Math.min(forMs, maxOpenMs);
    if (until > load<f64>(slot + TS_OPEN_UNTIL)) store<f64>(slot + TS_OPEN_UNTIL, until);
    return 0;
  }
  return open(slot, policy, now, forMs);
}

/** Sets the manual mode (MODE_NORMAL, MODE_FORCED_OPEN, MODE_DISABLED, MODE_METRICS_ONLY). */
export function setMode(slot: u32, mode: u32): void {
  store<u8>(slot + TS_MODE, <u8>mode);
  updateFlags(slot);
}

/** Moves to `state` now, whatever the counts say (forceClose, reset). Returns CHANGED or 0. */
export function forceState(slot: u32, state: u32, now: f64): i32 {
  const policy = policyOf(slot);
  catchUp(slot, policy, now);
  const was = <u32>load<u8>(slot + TS_STATE);
  const code = state == STATE_OPEN ? open(slot, policy, now, 0)
    : state == STATE_CLOSED ? close(slot, policy, now)
    : transition(slot, policy, state, now);
  return was == state ? 0 : code;
}

/** Adds `delta` (+1 or −1) to the open isolation handles; any open handle rejects every call. */
export function isolate(slot: u32, delta: i32): void {
  store<u32>(slot + TS_ISOLATIONS, load<u32>(slot + TS_ISOLATIONS) + <u32>delta);
  updateFlags(slot);
}

/** Whether the slot rejects calls now, without moving it: open, forced open or isolated. */
export function rejecting(slot: u32, now: f64): bool {
  const mode = load<u8>(slot + TS_MODE);
  if (load<u32>(slot + TS_ISOLATIONS) != 0 || mode == MODE_FORCED_OPEN) return true;
  if (mode != MODE_NORMAL) return false;
  return load<u8>(slot + TS_STATE) == STATE_OPEN && now < load<f64>(slot + TS_OPEN_UNTIL);
}

/**
 * Counts calls made elsewhere (other instances of a cluster) in a closed slot's counts and window,
 * as if settled now, and trips it when the window now meets the trip. Only a closed breaker's
 * counts are shared (an open one counts nothing, a half-open one its own probes). Disabled slots
 * ignore it. Returns CHANGED or 0.
 */
export function mergeThreeState(slot: u32, successes: u32, failures: u32, now: f64): i32 {
  const policy = policyOf(slot);
  catchUp(slot, policy, now);
  if (load<u8>(slot + TS_STATE) != STATE_CLOSED || load<u8>(slot + TS_MODE) == MODE_DISABLED) return 0;
  if (successes != 0) count(slot, policy, OUTCOME_SUCCESS, false, successes);
  if (failures != 0) count(slot, policy, OUTCOME_FAILURE, false, failures);
  if ((successes | failures) != 0 && shouldTrip(slot, policy)) return open(slot, policy, now, 0);
  updateFlags(slot);
  return 0;
}
